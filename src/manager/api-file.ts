/** Written by `manager run` into its home: the address it serves on (like lotus' `api` file), for CLIs given only --home. */
export const API_FILE = "api";

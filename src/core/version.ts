import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
/** Shown by --version and reported to the manager in WorkerPing / Version. */
export const VERSION_STRING = `damocles ${VERSION} (bun ${Bun.version}, ${process.platform}-${process.arch})`;

import { expect, test } from "bun:test";
import { keyLines, parseToml, TomlSyntaxError } from "./toml.ts";

test("maps key paths to lines across headers, arrays of tables, dotted keys and inline tables", () => {
  const text = [
    "[sealing]", //1
    "max_retries = 3", //2
    "", //3
    "[[sealing_thread]]", //4
    'location = "/a"', //5
    "[[sealing_thread]]", //6
    'sealing.seal_interval = "1s" # comment', //7
    "[[processors.pc1]]", //8
    'envs = { A = "1", "B" = "2" }', //9
    "[processors.pc1.cgroup]", //10
    'cpuset = "0-3"', //11
    "[[processors. window_post]]", //12
    "concurrent = 1", //13
  ].join("\n");
  const lines = keyLines(text);
  expect(lines.get("sealing.max_retries")).toBe(2);
  expect(lines.get("sealing_thread.0.location")).toBe(5);
  expect(lines.get("sealing_thread.1.sealing.seal_interval")).toBe(7);
  expect(lines.get("processors.pc1.0.envs.B")).toBe(9);
  expect(lines.get("processors.pc1.0.cgroup.cpuset")).toBe(11);
  expect(lines.get("processors.window_post.0.concurrent")).toBe(13);
});

test("syntax errors carry the line and a hint for documentation placeholders", () => {
  const text = '[[processors.pc1]]\nenvs = { A = "1", ... }\n';
  try {
    parseToml(text, "w.toml");
    throw new Error("expected a syntax error");
  } catch (err) {
    expect(err).toBeInstanceOf(TomlSyntaxError);
    const e = err as TomlSyntaxError;
    expect(e.line).toBe(2);
    expect(e.reason).toContain('"..." is a placeholder');
  }
});

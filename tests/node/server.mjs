// One node process for the whole test session (tests/node_parsers.py starts it): each line
// on stdin is a request {"op": "check" | "widths", "payload": ...}; each answer is one line
// on stdout, {"ok": result} or {"error": message}. Loading jsdom, KaTeX and Mermaid is most
// of a check's cost, so they load once instead of once per test.
import readline from "node:readline";
import { check } from "./check.mjs";
import { widths } from "./width.mjs";

const ops = { check, widths };
const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let reply;
  try {
    const { op, payload } = JSON.parse(line);
    if (!(op in ops)) throw new Error(`unknown op ${op}`);
    reply = { ok: await ops[op](payload) };
  } catch (error) {
    reply = { error: String((error && error.stack) || error) };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}

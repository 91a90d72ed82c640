// Parse every math expression with KaTeX and every diagram with Mermaid; report failures.
// Input on stdin: {"math": [{"tex": "...", "display": true}], "mermaid": ["flowchart LR ..."]}
// Output on stdout: {"math": [{"tex", "error"}], "mermaid": [{"text", "error"}], "counts": {...}}
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const katex = (await import("katex")).default;
const mathErrors = [];
for (const { tex, display } of input.math) {
  try {
    katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "error" });
  } catch (error) {
    mathErrors.push({ tex, error: String(error.message || error) });
  }
}

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
const mermaidErrors = [];
for (const text of input.mermaid) {
  try {
    await mermaid.parse(text);
  } catch (error) {
    mermaidErrors.push({ text, error: String(error.message || error) });
  }
}

process.stdout.write(
  JSON.stringify({
    math: mathErrors,
    mermaid: mermaidErrors,
    counts: { math: input.math.length, mermaid: input.mermaid.length },
  }),
);

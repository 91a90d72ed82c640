// Parse every math expression with KaTeX (its parser, strict) and every diagram with Mermaid;
// report failures.
// Input: {"math": [{"tex": "...", "display": true}], "mermaid": ["flowchart LR ..."]}
// Output: {"math": [{"tex", "display", "error"}], "mermaid": [{"text", "error"}], "counts": {...}}
// Served by server.mjs: the packages load once, for every document of the test session.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;

let mermaid = null;

export async function check(input) {
  const katex = (await import("katex")).default;
  const mathErrors = [];
  for (const { tex, display } of input.math) {
    try {
      // KaTeX's parser, where every ParseError (strict mode's too) is raised: a tenth of
      // renderToString's cost, which adds the HTML and MathML built from the same parse
      katex.__parse(tex, { displayMode: display, throwOnError: true, strict: "error" });
    } catch (error) {
      mathErrors.push({ tex, display, error: String(error.message || error) });
    }
  }

  if (mermaid === null) {
    mermaid = (await import("mermaid")).default;
    mermaid.initialize({ startOnLoad: false });
  }
  const mermaidErrors = [];
  for (const text of input.mermaid) {
    try {
      await mermaid.parse(text);
    } catch (error) {
      mermaidErrors.push({ text, error: String(error.message || error) });
    }
  }

  return {
    math: mathErrors,
    mermaid: mermaidErrors,
    counts: { math: input.math.length, mermaid: input.mermaid.length },
  };
}

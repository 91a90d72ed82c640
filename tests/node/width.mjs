// The width of display math as KaTeX lays it out, from KaTeX's own build tree: each glyph's
// advance width from KaTeX's font metrics, the spacing it inserts (margins, array column
// separation), scaled where KaTeX changes the font size; stacked rows (fractions, scripts,
// the rows of an aligned block) count as wide as the widest. In ems of the math font.
// Input: ["tex", ...]; output: [width in em, ...]. Served by server.mjs.
const katex = (await import("katex")).default;

const SIZES = [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.2, 1.44, 1.728, 2.074, 2.488];

function em(value) {
  return value && value.endsWith("em") ? parseFloat(value) : 0;
}

const glyphs = new Map();

function glyph(char, classes) {
  const font = ["mathnormal", "mathit", "mathbf", "boldsymbol"].find((f) => classes.includes(f));
  const key = `${font || "main"}:${char}`;
  if (!glyphs.has(key)) {
    const command = { mathnormal: "", mathit: "\\mathit", mathbf: "\\mathbf" }[font] ?? "\\mathrm";
    const tex = char === " " ? "\\ " : `${command}{${char}}`;
    let found = 0;
    const walk = (n) => {
      if (n.constructor.name === "SymbolNode" && !found) found = n.width || 0;
      for (const c of n.children || []) if (!(c.classes || []).includes("katex-mathml")) walk(c);
    };
    walk(katex.__renderToDomTree(tex, { throwOnError: false }));
    glyphs.set(key, found);
  }
  return glyphs.get(key);
}

function width(node, scale) {
  const classes = node.classes || [];
  if (classes.includes("katex-mathml") || classes.includes("pstrut") || classes.includes("strut")) {
    return 0;
  }
  let inner = scale;
  if (classes.includes("sizing")) {
    const from = classes.find((c) => c.startsWith("reset-size"));
    const to = classes.find((c) => /^size\d+$/.test(c));
    inner = (scale * SIZES[parseInt(to.slice(4)) - 1]) / SIZES[parseInt(from.slice(10)) - 1];
  }
  const style = node.style || {};
  let own = (em(style.marginLeft) + em(style.marginRight) + em(style.width)) * inner;
  if (node.constructor.name === "SymbolNode") {
    // KaTeX joins neighbouring characters into one node ("0.35") and keeps only the first
    // one's width: measure each character alone, in the node's font
    const chars = [...node.text];
    const advance = chars.length > 1 ? chars.reduce((sum, c) => sum + glyph(c, classes), 0) : node.width || 0;
    own += (advance + (node.italic || 0)) * inner;
  }
  const children = (node.children || []).map((child) => width(child, inner));
  const stacked = classes.includes("vlist");
  const content = stacked ? Math.max(0, ...children) : children.reduce((a, b) => a + b, 0);
  return own + content;
}

export function widths(texs) {
  return texs.map((tex) =>
    width(katex.__renderToDomTree(tex, { displayMode: true, throwOnError: true }), 1),
  );
}

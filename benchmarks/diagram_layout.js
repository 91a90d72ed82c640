// Loaded by the page benchmarks/diagram_layout.py writes, after Mermaid has drawn every
// diagram: what a reader would see wrong in each, measured on the drawn SVG.
//   - an edge that passes through a box other than its two ends;
//   - a box whose text leaves its shape (a circle's corners, a stadium's round ends);
//   - an edge that runs over the text of its own ends (an arrowhead on a label).
// The report goes into <pre id="layout-report"> as JSON, one object a diagram.
window.layoutReport = function () {
  const reports = [];
  document.querySelectorAll("pre.mermaid svg").forEach((svg) => {
    const problems = [];
    const boxes = [...svg.querySelectorAll("g.node")].map((g) => {
      const shape = g.querySelector("circle, rect, path, polygon");
      const label = g.querySelector(".label foreignObject div") || g.querySelector(".label");
      return {
        name: g.id.replace(/^[^-]*-/, "").replace(/-\d+$/, ""), // flowchart-node1-3 → node1
        kind: shape.tagName,
        rounded: !g.querySelector("rect"), // a stadium is a path with round ends
        box: shape.getBoundingClientRect(),
        text: label ? textBox(label) : null,
      };
    });
    for (const b of boxes) {
      if (b.text && !inside(b, b.text)) problems.push(`the text of ${b.name} leaves its ${b.kind}`);
    }
    svg.querySelectorAll("path.flowchart-link").forEach((path) => {
      // L_v0_node1_0 (Mermaid 11) or L-v0-node1-0 (Mermaid 10)
      const [, source, target] = path.id.match(/^L[-_](.+?)[-_](.+?)[-_]\d+$/) || [];
      const points = along(path);
      for (const b of boxes) {
        const end = b.name === source || b.name === target;
        const area = end ? b.text : shrunk(b.box, 1);
        if (area && points.some((p) => within(p, area))) {
          problems.push(
            end
              ? `the edge ${source} → ${target} runs over the text of ${b.name}`
              : `the edge ${source} → ${target} crosses the box ${b.name}`,
          );
        }
      }
    });
    const viewBox = svg.viewBox.baseVal;
    const drawn = svg.getBoundingClientRect();
    reports.push({
      boxes: boxes.length,
      problems,
      width: Math.round(drawn.width),
      height: Math.round(drawn.height),
      scale: viewBox.width ? drawn.width / viewBox.width : 1,
    });
  });
  return reports;
};

function textBox(element) {
  // the union of the text's line boxes: a Range's rectangles hug the glyphs
  const range = document.createRange();
  range.selectNodeContents(element);
  const rects = [...range.getClientRects()].filter((r) => r.width > 0);
  if (!rects.length) return null;
  return {
    left: Math.min(...rects.map((r) => r.left)),
    right: Math.max(...rects.map((r) => r.right)),
    top: Math.min(...rects.map((r) => r.top)),
    bottom: Math.max(...rects.map((r) => r.bottom)),
  };
}

function shrunk(r, by) {
  return { left: r.left + by, right: r.right - by, top: r.top + by, bottom: r.bottom - by };
}

function within(p, r) {
  return p.x > r.left && p.x < r.right && p.y > r.top && p.y < r.bottom;
}

function along(path) {
  // the edge's points a pixel apart, in page coordinates
  const length = path.getTotalLength();
  const matrix = path.getScreenCTM();
  const points = [];
  for (let s = 0; s <= length; s += 1) {
    const p = path.getPointAtLength(s);
    points.push(new DOMPoint(p.x, p.y).matrixTransform(matrix));
  }
  return points;
}

function inside(b, t) {
  const corners = [
    [t.left, t.top],
    [t.right, t.top],
    [t.left, t.bottom],
    [t.right, t.bottom],
  ];
  const r = b.box;
  const slack = 0.5;
  if (b.kind === "circle") {
    const [cx, cy, radius] = [(r.left + r.right) / 2, (r.top + r.bottom) / 2, r.width / 2];
    return corners.every(([x, y]) => Math.hypot(x - cx, y - cy) <= radius + slack);
  }
  const end = b.rounded ? r.height / 2 : 0; // a stadium's half-circle ends
  const cy = (r.top + r.bottom) / 2;
  return corners.every(([x, y]) => {
    if (x < r.left - slack || x > r.right + slack || y < r.top - slack || y > r.bottom + slack) {
      return false;
    }
    if (end && x < r.left + end) return Math.hypot(x - (r.left + end), y - cy) <= end + slack;
    if (end && x > r.right - end) return Math.hypot(x - (r.right - end), y - cy) <= end + slack;
    return true;
  });
}

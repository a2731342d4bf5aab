/**
 * The diagram as a file: SVG (the live element with the page's styles inlined, so it looks
 * the same on its own) or PNG (that SVG drawn on a canvas at its own size, on the page's
 * background colour).
 */

/** The SVG element as a standalone document, with the page's stylesheet inside. */
export function svgText(svg: Element): string {
  const css = Array.from(document.styleSheets).flatMap((sh) => Array.from(sh.cssRules).map((r) => r.cssText)).join("\n");
  const copy = svg.cloneNode(true) as Element;
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  copy.prepend(Object.assign(document.createElementNS("http://www.w3.org/2000/svg", "style"), { textContent: css }));
  return new XMLSerializer().serializeToString(copy);
}

/** Chromium refuses canvases past 32767 pixels a side; a taller diagram is scaled down to fit. */
const MAX_SIDE = 32_767;

/** Renders the SVG element to a PNG of its own width and height (scaled down only past MAX_SIDE). */
export async function pngOf(svg: SVGSVGElement): Promise<Blob> {
  const width = Number(svg.getAttribute("width"));
  const height = Number(svg.getAttribute("height"));
  const scale = Math.min(1, MAX_SIDE / width, MAX_SIDE / height);
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText(svg))}`;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext("2d");
  if (ctx === null) throw new Error("no 2D canvas in this browser");
  ctx.fillStyle = getComputedStyle(document.body).backgroundColor;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b !== null ? resolve(b) : reject(new Error("the canvas gave no PNG"))), "image/png"));
}

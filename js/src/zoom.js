// @ts-check
// The full-size view's lightbox: zoom (the wheel, +/−, the buttons), 1:1 pixels, fit, and pan
// (drag, or the arrow keys while zoomed). The frame clips; everything in it (the image, and the
// before/after overlay of an edit) moves as one through the `--flux-zoom` transform.

import { h, listen } from "./dom.js";

/** Zoom steps: each press of + or − multiplies or divides by this. */
export const ZOOM_STEP = 1.25;
/** How far an arrow key pans, in screen pixels. */
export const PAN_STEP = 60;
/** The largest zoom, as a multiple of the image's own pixels. */
export const MOST_PIXEL_ZOOM = 8;

/**
 * The scale that shows the image's own pixels one to one, given its natural and shown widths.
 * @param {number} natural
 * @param {number} shown
 */
export function oneToOne(natural, shown) {
  return natural > 0 && shown > 0 ? natural / shown : 1;
}

/**
 * @param {{ frame: HTMLElement, image: HTMLImageElement, signal: AbortSignal }} props
 */
export function createZoom({ frame, image, signal }) {
  const level = h("span", { className: "flux-zoom-level", "@aria-live": "polite" });
  const button = (/** @type {string} */ text, /** @type {string} */ label) =>
    h("button", { type: "button", className: "flux-link flux-zoom-button", textContent: text, "@aria-label": label });
  const out = button("−", "Zoom out");
  const fit = button("Fit", "Fit to the window");
  const actual = button("1:1", "Actual pixels");
  const into = button("+", "Zoom in");
  const node = h("span", { className: "flux-zoom", "@role": "group", "@aria-label": "Zoom" }, [out, level, into, fit, actual]);
  let scale = 1;
  let x = 0;
  let y = 0;

  const most = () => Math.max(1, MOST_PIXEL_ZOOM * oneToOne(image.naturalWidth, image.getBoundingClientRect().width / scale));
  const apply = () => {
    scale = Math.min(Math.max(scale, 1), most());
    if (scale === 1) x = y = 0;
    frame.style.setProperty("--flux-zoom", scale === 1 ? "none" : `translate(${x}px, ${y}px) scale(${scale})`);
    frame.classList.toggle("flux-zoomed", scale > 1);
    const shown = image.getBoundingClientRect().width / scale;
    level.textContent = `${Math.round((100 * scale * shown) / (image.naturalWidth || shown || 1))}%`;
    out.disabled = fit.disabled = scale === 1;
  };
  /** @param {number} to */
  const zoomTo = (to) => {
    const from = scale;
    scale = to;
    apply();
    x *= scale / from;
    y *= scale / from;
    apply();
  };
  listen(out, "click", () => zoomTo(scale / ZOOM_STEP), signal);
  listen(into, "click", () => zoomTo(scale * ZOOM_STEP), signal);
  listen(fit, "click", () => zoomTo(1), signal);
  listen(actual, "click", () => zoomTo(oneToOne(image.naturalWidth, image.getBoundingClientRect().width / scale)), signal);
  listen(frame, "wheel", (event) => {
    event.preventDefault();
    zoomTo(event.deltaY < 0 ? scale * ZOOM_STEP : scale / ZOOM_STEP);
  }, signal);
  /** @type {{ x: number, y: number } | null} */
  let dragged = null;
  listen(frame, "pointerdown", (event) => {
    if (scale === 1 || event.target instanceof HTMLInputElement) return;
    dragged = { x: event.clientX - x, y: event.clientY - y };
    frame.setPointerCapture?.(event.pointerId);
  }, signal);
  listen(frame, "pointermove", (event) => {
    if (!dragged) return;
    x = event.clientX - dragged.x;
    y = event.clientY - dragged.y;
    apply();
  }, signal);
  listen(frame, "pointerup", () => {
    dragged = null;
  }, signal);
  apply();

  return {
    node,
    /** Back to fit (a new image on show). */
    reset() {
      scale = 1;
      apply();
    },
    /**
     * The view's keys: + and − zoom, 0 fits, 1 shows actual pixels; while zoomed the arrows pan.
     * True when the key was the lightbox's.
     * @param {KeyboardEvent} event
     */
    key(event) {
      const pans = { ArrowLeft: [PAN_STEP, 0], ArrowRight: [-PAN_STEP, 0], ArrowUp: [0, PAN_STEP], ArrowDown: [0, -PAN_STEP] };
      if (event.key === "+" || event.key === "=") zoomTo(scale * ZOOM_STEP);
      else if (event.key === "-") zoomTo(scale / ZOOM_STEP);
      else if (event.key === "0") zoomTo(1);
      else if (event.key === "1") actual.click();
      else if (scale > 1 && event.key in pans) {
        const [across, down] = /** @type {Record<string, number[]>} */ (pans)[event.key];
        x += across;
        y += down;
        apply();
      } else return false;
      return true;
    },
  };
}

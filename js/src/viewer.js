// @ts-check
// The full-size view: a modal dialog named by the prompt, in the page's top layer (so no output
// area clips it and the notebook does not scroll). ←/→ step through the history; Esc closes it and
// gives focus back to what opened it.

import { copyPicture, flasher, h, labelledButton, listen, onAbort } from "./dom.js";
import { describeParams, downloadName, positiveNumber } from "./format.js";
import { current, setTraits, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {import("./types.js").Params} Params */
/** @typedef {ReturnType<typeof import("./entries.js").createEntries>} Entries */

/**
 * @param {{ model: Model, entries: Entries, signal: AbortSignal, fallbackFocus: () => HTMLElement }} props
 */
export function createViewer({ model, entries, signal, fallbackFocus }) {
  const titleId = `flux-viewer-title-${Math.random().toString(36).slice(2)}`;
  const title = h("h2", { className: "flux-viewer-title", id: titleId, dir: "auto" });
  const image = h("img", { className: "flux-viewer-image", alt: "" });
  const caption = h("p", { className: "flux-viewer-caption" });
  const counter = h("span", { className: "flux-viewer-counter" });
  const previous = h("button", { type: "button", className: "flux-button flux-viewer-nav", textContent: "‹ Previous", "@aria-label": "Previous image" });
  const next = h("button", { type: "button", className: "flux-button flux-viewer-nav", textContent: "Next ›", "@aria-label": "Next image" });
  const close = h("button", { type: "button", className: "flux-button flux-viewer-close", textContent: "Close" });
  const download = h("a", { className: "flux-link", textContent: "Download" });
  const copy = labelledButton("flux-link", "Copy image");
  const reuse = labelledButton("flux-link", "Reuse seed");
  const node = h("dialog", { className: "flux-viewer", "@aria-labelledby": titleId }, [
    h("div", { className: "flux-viewer-panel" }, [
      h("div", { className: "flux-viewer-top" }, [title, close]),
      image,
      caption,
      h("div", { className: "flux-viewer-bottom" }, [
        previous,
        h("span", { className: "flux-viewer-middle" }, [counter, h("span", { className: "flux-result-actions" }, [download, copy, reuse])]),
        next,
      ]),
    ]),
  ]);
  const flash = flasher(signal);

  /** @type {number | null} the history entry on show */
  let index = null;
  /** @type {Element | null} what had focus when the view opened */
  let opener = null;
  /** @type {number | null | undefined} the entry last asked of the kernel */
  let requested = null;
  // The view keeps its own copy of the image it shows: the one on show in the widget may change
  // meanwhile (a batch arriving, an answer to an earlier arrow press).
  /** @type {{ index: number, url: string, params: Params } | null} */
  let held = null;
  const forget = () => {
    if (held) URL.revokeObjectURL(held.url);
    held = null;
  };
  onAbort(signal, () => {
    if (node.open) node.close();
    forget();
  });

  const draw = () => {
    if (index == null) return;
    const shown = current(model);
    const bytes = model.get("image");
    if (shown.index === index && bytes?.byteLength && held?.index !== index) {
      forget();
      const url = URL.createObjectURL(new Blob([bytes], { type: model.get("image_type") || "image/webp" }));
      held = { index, url, params: { ...shown } };
    }
    const ready = held != null && held.index === index;
    const entry = entries.list()[index] || {};
    const params = held && ready ? held.params : entry;
    title.textContent = params.prompt || "";
    // Until the full image arrives from the kernel, its thumbnail stands in.
    const src = held && ready ? held.url : entry.thumbnail || "";
    if (image.getAttribute("src") !== src) image.src = src;
    image.alt = params.prompt || "";
    const width = positiveNumber(params.width, 0);
    const height = positiveNumber(params.height, 0);
    image.width = width;
    image.height = height;
    if (width && height) image.style.setProperty("--flux-aspect", String(width / height));
    const total = (model.get("history") || []).length;
    const place = ready && params.slot != null ? `${params.slot}/${params.of} · ` : "";
    caption.replaceChildren(place, h("bdi", { textContent: params.prompt || "", dir: "auto" }), describeParams(params));
    counter.textContent = `${index + 1} of ${total} in history`;
    previous.disabled = index <= 0;
    next.disabled = index >= total - 1;
    if (held && ready) {
      download.href = held.url;
      download.download = downloadName(params.seed, model.get("image_type"), model.get("limits").extensions);
    }
    for (const action of [download, copy, reuse]) action.hidden = !ready;
    node.setAttribute("aria-busy", String(!ready));
    // A button that disables itself would drop focus out of the dialog.
    if (/** @type {HTMLButtonElement | null} */ (document.activeElement)?.disabled) close.focus({ preventScroll: true });
  };

  /** @param {number | null | undefined} wanted */
  const open = (wanted) => {
    if (wanted == null) return;
    index = wanted;
    if (!node.open) requested = current(model).index;
    if (requested !== wanted) {
      model.send({ type: "show", index: wanted });
      requested = wanted;
    }
    draw();
    if (!node.open) {
      opener = document.activeElement;
      node.showModal();
      close.focus({ preventScroll: true });
    }
  };
  /** @param {number} by */
  const step = (by) => {
    if (index == null) return;
    const wanted = index + by;
    if (wanted >= 0 && wanted < (model.get("history") || []).length) open(wanted);
  };

  listen(previous, "click", () => step(-1), signal);
  listen(next, "click", () => step(1), signal);
  listen(close, "click", () => node.close(), signal);
  listen(copy, "click", async () => flash([copy], copy, await copyPicture(image)), signal);
  listen(reuse, "click", () => {
    const seed = held?.params.seed;
    if (seed != null) setTraits(model, { seed, randomize_seed: false });
  }, signal);
  listen(node, "keydown", (event) => {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      step(event.key === "ArrowLeft" ? -1 : 1);
    }
  }, signal);
  // A click on the shade around the panel closes the view, as Esc does.
  listen(node, "click", (event) => {
    if (event.target === node) node.close();
  }, signal);
  listen(node, "close", () => {
    index = null;
    forget();
    const back = opener instanceof HTMLElement && opener.isConnected ? opener : fallbackFocus();
    opener = null;
    back.focus({ preventScroll: true });
  }, signal);
  watch(model, ["image", "image_type", "current"], draw, signal);
  entries.subscribe(draw);

  return {
    node,
    open,
    get isOpen() {
      return node.open;
    },
  };
}

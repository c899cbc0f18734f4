// @ts-check
// The full-size view: a modal dialog named by the prompt, in the page's top layer (so no output
// area clips it and the notebook does not scroll). It shows the entry's full image, asked of the
// kernel (the image on show in the widget stays as it is); without a kernel it shows the saved
// thumbnail and says so. ←/→ step through the history in the strip's order (except on the before/after slider an edit
// shows, which they move); Esc closes it and gives focus back to what opened it, or to the control
// that now stands in its place.

import { h, listen, onAbort } from "./dom.js";
import { positiveNumber } from "./sizes.js";
import { shownOrder } from "./state.js";
import { describeParams, NOT_CONNECTED } from "./text.js";
import { createCompare } from "./compare.js";
import { createImageActions } from "./image-actions.js";
import { createZoom } from "./zoom.js";
import { onLost, optionalNames, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {ReturnType<typeof import("./entries.js").createEntries>} Entries */
/** @typedef {ReturnType<typeof import("./full-images.js").createFullImages>} FullImages */
/** @typedef {ReturnType<typeof import("./requests.js").createRequests>} Requests */

const NO_KERNEL = "The full-size image needs the running kernel: this is the thumbnail saved with the notebook. Re-run the widget's cell to see it.";
const ASKING = "Asking the kernel for the full-size image…";
/** A live kernel answers within milliseconds: only a slower answer is worth a word. */
const SAY_ASKING_AFTER_MS = 700;

/** The view's own parts, made once: its title, image, caption, note, counter and buttons. */
function viewerParts() {
  const titleId = `flux-viewer-title-${Math.random().toString(36).slice(2)}`;
  return {
    titleId,
    title: h("h2", { className: "flux-viewer-title", id: titleId, dir: "auto" }),
    image: h("img", { className: "flux-viewer-image", alt: "" }),
    caption: h("p", { className: "flux-viewer-caption" }),
    note: h("p", { className: "flux-viewer-note", "@role": "status", "@aria-live": "polite" }),
    counter: h("span", { className: "flux-viewer-counter" }),
    previous: h("button", { type: "button", className: "flux-button flux-viewer-nav", textContent: "‹ Previous", "@aria-label": "Previous image" }),
    next: h("button", { type: "button", className: "flux-button flux-viewer-nav", textContent: "Next ›", "@aria-label": "Next image" }),
    close: h("button", { type: "button", className: "flux-button flux-viewer-close", textContent: "Close" }),
  };
}

/**
 * @param {{ model: Model, entries: Entries, images: FullImages, requests: Requests, signal: AbortSignal, fallbackFocus: () => HTMLElement }} props
 */
export function createViewer({ model, entries, images, requests, signal, fallbackFocus }) {
  const { titleId, title, image, caption, note, counter, previous, next, close } = viewerParts();
  // Reuse is said here, in the note: the controls it changed are behind the dialog.
  /** @param {string} text */
  const sayInNote = (text) => {
    note.textContent = text;
  };
  const actions = createImageActions({
    model, signal, picture: image, params: () => shownEntry(), say: sayInNote, editIndex: () => index,
  });
  const compare = createCompare({ image, requests, signal, say: sayInNote });
  const zoom = createZoom({ frame: compare.frame, image, signal });
  // The notice the widget shows is behind this dialog: an action that found no kernel says so here.
  onLost(model, () => sayInNote(NOT_CONNECTED), signal);
  const node = h("dialog", { className: "flux-viewer", "@aria-labelledby": titleId }, [
    h("div", { className: "flux-viewer-panel" }, [
      h("div", { className: "flux-viewer-top" }, [title, close]),
      compare.frame,
      compare.control,
      caption,
      note,
      h("div", { className: "flux-viewer-bottom" }, [
        previous,
        h("span", { className: "flux-viewer-middle" }, [counter, zoom.node, compare.pin, actions.node]),
        next,
      ]),
    ]),
  ]);
  /** @type {number | null} the history entry on show */
  let index = null;
  const shownEntry = () => (index == null ? null : entries.list()[index] || null);
  /** @type {Element | null} what had focus when the view opened */
  let opener = null;
  /** @type {(() => HTMLElement | null) | null} finds the control to go back to, if the opener was redrawn */
  let returnFocus = null;
  /** @type {"waiting" | "full" | "thumbnail"} */
  let state = "waiting";
  let ticket = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let askingTimer;
  onAbort(signal, () => {
    clearTimeout(askingTimer);
    if (node.open) node.close();
  });

  const draw = () => {
    if (index == null) return;
    const entry = entries.list()[index];
    if (!entry) return;
    const full = images.peek(index);
    if (full) state = "full";
    title.textContent = entry.prompt || "";
    const src = full ? full.url : entry.thumbnail || "";
    if (image.getAttribute("src") !== src) image.src = src;
    image.alt = entry.prompt || "";
    const width = positiveNumber(entry.width, 0);
    const height = positiveNumber(entry.height, 0);
    image.width = width;
    image.height = height;
    if (width && height) image.style.setProperty("--flux-aspect", String(width / height));
    const order = shownOrder(entries.list());
    const place = order.indexOf(index);
    const total = order.length;
    caption.replaceChildren(h("bdi", { textContent: entry.prompt || "", dir: "auto" }), h("br"), describeParams(entry, optionalNames(model)));
    counter.textContent = `${place + 1} of ${total} in history`;
    previous.disabled = place <= 0;
    next.disabled = place >= total - 1;
    actions.setFile(full, entry.seed);
    actions.copy.hidden = !full;
    if (state === "thumbnail") note.textContent = NO_KERNEL;
    else if (note.textContent === NO_KERNEL || (state === "full" && note.textContent === ASKING)) note.textContent = "";
    node.classList.toggle("flux-viewer-preview", !full);
    node.setAttribute("aria-busy", String(state === "waiting"));
    // A button that disables itself would drop focus out of the dialog.
    if (/** @type {HTMLButtonElement | null} */ (document.activeElement)?.disabled) close.focus({ preventScroll: true });
  };

  /**
   * @param {number | null | undefined} wanted
   * @param {() => HTMLElement | null} [findOpener] The control to give focus back to, found at close time.
   */
  const open = (wanted, findOpener) => {
    const entry = wanted == null ? null : entries.list()[wanted];
    if (wanted == null || !entry) return;
    index = wanted;
    state = images.peek(wanted) ? "full" : "waiting";
    note.textContent = "";
    const mine = ++ticket;
    clearTimeout(askingTimer);
    askingTimer = setTimeout(() => {
      if (mine === ticket && state === "waiting") note.textContent = ASKING;
    }, SAY_ASKING_AFTER_MS);
    compare.show(wanted, entry);
    zoom.reset();
    images.get(wanted).then((full) => {
      if (mine !== ticket || index !== wanted) return;
      state = full ? "full" : "thumbnail";
      draw();
    });
    draw();
    if (!node.open) {
      opener = document.activeElement;
      returnFocus = findOpener || null;
      node.showModal();
      close.focus({ preventScroll: true });
    }
  };
  /** @param {number} by */
  const step = (by) => {
    if (index == null) return;
    const order = shownOrder(entries.list()); // the strip's order: → is the one to the right there
    const wanted = order[order.indexOf(index) + by];
    if (wanted != null) open(wanted);
  };

  listen(previous, "click", () => step(-1), signal);
  listen(next, "click", () => step(1), signal);
  listen(close, "click", () => node.close(), signal);
  listen(node, "keydown", (event) => viewerKey(event, { compare, zoom, step }), signal);
  // A click on the shade around the panel closes the view, as Esc does.
  listen(node, "click", (event) => event.target === node && node.close(), signal);
  listen(node, "close", () => {
    index = null;
    compare.hide();
    ticket++;
    const found = returnFocus?.();
    const back = found?.isConnected ? found : opener instanceof HTMLElement && opener.isConnected ? opener : fallbackFocus();
    opener = null;
    returnFocus = null;
    back.focus({ preventScroll: true });
  }, signal);
  watch(model, ["history"], draw, signal);
  entries.subscribe(draw);

  return {
    node,
    open,
    get isOpen() {
      return node.open;
    },
  };
}

/**
 * A key pressed in the view: the slider's own, the lightbox's (zoom, fit, 1:1, a pan while zoomed),
 * else ←/→ step through the history.
 * @param {KeyboardEvent} event
 * @param {{ compare: { owns: (target: EventTarget | null) => boolean }, zoom: { key: (event: KeyboardEvent) => boolean }, step: (by: number) => void }} parts
 */
function viewerKey(event, { compare, zoom, step }) {
  if (compare.owns(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (zoom.key(event)) {
    event.preventDefault();
  } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
    event.preventDefault();
    step(event.key === "ArrowLeft" ? -1 : 1);
  }
}

// @ts-check
// Two images of the full-size view against each other: an edit and the first reference image it
// was made from, or any history entry and one pinned with "Compare" (the view's ←/→ then choose the
// other). The frame holds the image on show and the other (asked of the kernel, which keeps both);
// by default the other is clipped from the left to a slider's value (an edit's before/after), and
// "Side by side" puts the two next to each other (a pinned entry's default). The slider is a native
// range input, so it is named for screen readers and moved by dragging or with ←/→, Home and End
// while focused. An image made from text with nothing pinned, or one whose input the kernel no
// longer has, shows neither.

import { h, listen, onAbort } from "./dom.js";
import { askImage } from "./full-images.js";
import { plural } from "./text.js";

/** @typedef {import("./types.js").Entry} Entry */
/** @typedef {ReturnType<typeof import("./requests.js").createRequests>} Requests */

/** Where the slider starts: half before, half after. */
export const START_AT = 50;

/**
 * `node`, hidden.
 * @template {HTMLElement} T
 * @param {T} node
 * @returns {T}
 */
function hidden(node) {
  node.hidden = true;
  return node;
}

/**
 * The component's own elements, made once (the other image, the slider and its row, the buttons),
 * hidden until something is compared.
 * @param {HTMLImageElement} image The image on show, which the frame holds.
 */
function compareParts(image) {
  const before = hidden(h("img", { className: "flux-compare-before", alt: "" }));
  const line = hidden(h("span", { className: "flux-compare-line", "@aria-hidden": "true" }));
  const slider = h("input", {
    type: "range", className: "flux-compare-slider", min: "0", max: "100", step: "5", value: String(START_AT),
    "@aria-label": "Before and after",
  });
  const inputs = h("span", { className: "flux-compare-inputs", "@role": "group" });
  const made = hidden(h("span", { className: "flux-compare-made" }, ["Made from ", inputs]));
  const sliding = hidden(h("span", { className: "flux-compare-sliding" }, [
    h("span", { className: "flux-compare-end", textContent: "Before" }), slider,
    h("span", { className: "flux-compare-end", textContent: "After" }),
  ]));
  const side = hidden(h("button", { type: "button", className: "flux-link flux-compare-side-by-side", textContent: "Side by side", "@aria-pressed": "false" }));
  const pinnedText = hidden(h("span", { className: "flux-compare-pinned" }));
  const pin = h("button", { type: "button", className: "flux-link flux-compare-pin", textContent: "Compare", "@aria-pressed": "false" });
  return {
    before, line, slider, inputs, made, sliding, side, pinnedText, pin,
    frame: h("div", { className: "flux-compare-frame" }, [image, before, line]),
    // One row under the image: the slider (once the other image is here), its layout, and the inputs' thumbnails.
    control: hidden(h("div", { className: "flux-compare" }, [pinnedText, sliding, side, made])),
  };
}

/**
 * @param {{ image: HTMLImageElement, requests: Requests, signal: AbortSignal, say: (text: string) => void }} props
 *   `image` is the image on show; `say` tells, in the view's note, what pinning did.
 */
export function createCompare({ image, requests, signal, say }) {
  const { before, line, slider, inputs, made, sliding, side, pinnedText, pin, frame, control } = compareParts(image);
  /** @type {string | null} the edit's input, while shown */
  let url = null;
  /** @type {{ entry: Entry, url: string | null } | null} the entry pinned with Compare, and its full image */
  let pinned = null;
  /** @type {{ index: number, entry: Entry } | null} */
  let shown = null;
  let ticket = 0;

  const place = () => {
    const value = Number(slider.value);
    frame.style.setProperty("--flux-before", `${value}%`);
    slider.setAttribute("aria-valuetext", `${value}% before, ${100 - value}% after`);
  };
  const forget = () => {
    if (url) URL.revokeObjectURL(url);
    url = null;
    before.removeAttribute("src");
    before.hidden = line.hidden = sliding.hidden = side.hidden = pinnedText.hidden = true;
    frame.classList.remove("flux-compare-side");
  };
  /** Show `src` as the other image (before, or left when side by side). @param {string} src */
  const showOther = (src) => {
    before.src = src;
    const apart = side.getAttribute("aria-pressed") === "true";
    frame.classList.toggle("flux-compare-side", apart);
    before.hidden = side.hidden = false;
    line.hidden = sliding.hidden = apart;
    control.hidden = false;
  };
  const unpin = () => {
    if (pinned?.url) URL.revokeObjectURL(pinned.url);
    pinned = null;
    pin.setAttribute("aria-pressed", "false");
  };
  /** The pinned entry against `entry`, if it is another: whether it is shown. @param {Entry} entry */
  const showPinned = (entry) => {
    if (!pinned || pinned.entry === entry) return false;
    const other = pinned.entry;
    before.alt = `Pinned: ${other.prompt || ""}`;
    frame.style.setProperty("--flux-other-aspect", String((Number(other.width) || 1) / (Number(other.height) || 1)));
    pinnedText.textContent = `Left: pinned, seed ${other.seed}`;
    pinnedText.hidden = side.getAttribute("aria-pressed") !== "true";
    showOther(pinned.url || other.thumbnail || "");
    return true;
  };
  listen(slider, "input", place, signal);
  listen(side, "click", () => {
    side.setAttribute("aria-pressed", String(side.getAttribute("aria-pressed") !== "true"));
    if (shown) api.show(shown.index, shown.entry);
  }, signal);
  listen(pin, "click", () => {
    if (!shown) return;
    if (pinned) {
      unpin();
      side.setAttribute("aria-pressed", "false");
      say("");
    } else {
      /** @type {{ entry: Entry, url: string | null }} */
      const mine = { entry: shown.entry, url: null };
      pinned = mine;
      pin.setAttribute("aria-pressed", "true");
      side.setAttribute("aria-pressed", "true");
      say("Pinned. Press ← or → to choose the image to compare it with.");
      askImage(requests, shown.index, shown.entry).then((blob) => {
        if (pinned !== mine || !blob) return; // unpinned meanwhile, or no kernel: its thumbnail stays
        mine.url = URL.createObjectURL(blob);
        if (shown && mine.entry !== shown.entry) before.src = mine.url;
      });
    }
    api.show(shown.index, shown.entry);
  }, signal);
  onAbort(signal, () => {
    forget();
    unpin();
  });
  place();

  const api = {
    frame,
    control,
    /** The Compare button (pins the image on show), for the view's bottom row. */
    pin,
    /**
     * Show entry `index` against the pinned entry, or an edit against its first input if the kernel still holds it.
     * @param {number} index
     * @param {Entry} entry
     */
    show(index, entry) {
      const wanted = entry.images?.[0]?.sha256;
      const mine = ++ticket;
      shown = { index, entry };
      forget();
      // Its inputs' thumbnails, saved with the notebook, say what it was made from even without a kernel.
      inputs.replaceChildren(...(entry.inputs || []).map((src, at) => h("img", { className: "flux-compare-thumb", src, alt: `input ${at + 1}` })));
      inputs.setAttribute("aria-label", `Made from ${plural(entry.inputs?.length || 0, "image")}`);
      made.hidden = !entry.inputs?.length;
      control.hidden = made.hidden;
      if (showPinned(entry) || !wanted) return;
      requests.ask({ type: "input", index }).then((answer) => {
        const bytes = answer?.buffers[0];
        if (mine !== ticket || signal.aborted || !bytes || answer?.content.sha256 !== wanted) return;
        url = URL.createObjectURL(new Blob([bytes], { type: String(answer.content.mime || "image/png") }));
        before.alt = "";
        frame.style.setProperty("--flux-other-aspect", String((Number(entry.width) || 1) / (Number(entry.height) || 1)));
        slider.value = String(START_AT);
        place();
        showOther(url);
      });
    },
    /** The view closed: nothing to compare, nothing pinned. */
    hide() {
      ticket++;
      shown = null;
      forget();
      unpin();
      side.setAttribute("aria-pressed", "false");
    },
    /** @param {EventTarget | null} target Whether a key pressed on `target` is the slider's own. */
    owns(target) {
      return target === slider;
    },
  };
  return api;
}

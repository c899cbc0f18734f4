// @ts-check
// The before/after slider of the full-size view: an edit shown over the first reference image it
// was made from. The frame holds the edit and, clipped from the left to the slider's value, its
// input (asked of the kernel, which keeps it); the slider is a native range input, so it is named
// for screen readers and moved by dragging or with ←/→, Home and End while focused. An image made
// from text, or one whose input the kernel no longer has, shows no slider.

import { h, listen, onAbort } from "./dom.js";
import { plural } from "./text.js";

/** @typedef {import("./types.js").Entry} Entry */
/** @typedef {ReturnType<typeof import("./requests.js").createRequests>} Requests */

/** Where the slider starts: half before, half after. */
export const START_AT = 50;

/**
 * @param {{ image: HTMLImageElement, requests: Requests, signal: AbortSignal }} props `image` is the edit on show.
 */
export function createCompare({ image, requests, signal }) {
  const before = h("img", { className: "flux-compare-before", alt: "" });
  before.hidden = true;
  const line = h("span", { className: "flux-compare-line", "@aria-hidden": "true" });
  line.hidden = true;
  const frame = h("div", { className: "flux-compare-frame" }, [image, before, line]);
  const slider = h("input", {
    type: "range", className: "flux-compare-slider", min: "0", max: "100", step: "5", value: String(START_AT),
    "@aria-label": "Before and after",
  });
  const inputs = h("span", { className: "flux-compare-inputs", "@role": "group" });
  const made = h("span", { className: "flux-compare-made" }, ["Made from ", inputs]);
  made.hidden = true;
  const sliding = h("span", { className: "flux-compare-sliding" }, [
    h("span", { className: "flux-compare-end", textContent: "Before" }), slider,
    h("span", { className: "flux-compare-end", textContent: "After" }),
  ]);
  sliding.hidden = true;
  // One row under the image: the slider (once the input is here) and the inputs' thumbnails.
  const control = h("div", { className: "flux-compare" }, [sliding, made]);
  control.hidden = true;
  /** @type {string | null} */
  let url = null;
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
    before.hidden = line.hidden = sliding.hidden = true;
  };
  listen(slider, "input", place, signal);
  onAbort(signal, forget);
  place();

  return {
    frame,
    control,
    /**
     * Show entry `index`'s edit against its first input, if it has one the kernel still holds.
     * @param {number} index
     * @param {Entry} entry
     */
    show(index, entry) {
      const wanted = entry.images?.[0]?.sha256;
      const mine = ++ticket;
      forget();
      // Its inputs' thumbnails, saved with the notebook, say what it was made from even without a kernel.
      inputs.replaceChildren(...(entry.inputs || []).map((src, at) => h("img", { className: "flux-compare-thumb", src, alt: `input ${at + 1}` })));
      inputs.setAttribute("aria-label", `Made from ${plural(entry.inputs?.length || 0, "image")}`);
      made.hidden = control.hidden = !entry.inputs?.length;
      if (!wanted) return;
      requests.ask({ type: "input", index }).then((answer) => {
        const bytes = answer?.buffers[0];
        if (mine !== ticket || signal.aborted || !bytes || answer?.content.sha256 !== wanted) return;
        url = URL.createObjectURL(new Blob([bytes], { type: String(answer.content.mime || "image/png") }));
        before.src = url;
        slider.value = String(START_AT);
        place();
        before.hidden = line.hidden = sliding.hidden = false;
      });
    },
    /** The view closed: nothing to compare. */
    hide() {
      ticket++;
      forget();
    },
    /** @param {EventTarget | null} target Whether a key pressed on `target` is the slider's own. */
    owns(target) {
      return target === slider;
    },
  };
}

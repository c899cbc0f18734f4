// @ts-check
// The image on show, its caption, and what can be done with it (Download, Copy image, Copy seed,
// Reuse seed). The image is a button that opens the full-size view.

import { h, listen, onAbort } from "./dom.js";
import { positiveNumber } from "./sizes.js";
import { describeParams } from "./text.js";
import { createImageActions } from "./image-actions.js";
import { current, optionalNames, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */

/**
 * @param {{ model: Model, signal: AbortSignal, root: HTMLElement, onOpen: (index: number) => void, onSay: (text: string) => void }} props
 */
export function createResult({ model, signal, root, onOpen, onSay }) {
  const image = h("img", { className: "flux-image", alt: "" });
  const button = h("button", { type: "button", className: "flux-image-button" }, [image]);
  const caption = h("span", { className: "flux-caption" });
  const actions = createImageActions({ model, signal, picture: image, params: () => current(model), say: onSay, copySeedRoot: root });
  const node = h("figure", { className: "flux-result" }, [
    button,
    h("figcaption", { className: "flux-figcaption" }, [caption, actions.node]),
  ]);
  // Before the first image: where it will be, the size it will have.
  const empty = h("div", { className: "flux-empty" }, [h("span", { textContent: "Your image appears here" })]);
  /** @type {string | null} */
  let url = null;
  onAbort(signal, () => {
    if (url) URL.revokeObjectURL(url);
  });

  listen(button, "click", () => {
    const index = current(model).index;
    if (index != null) onOpen(index);
  }, signal);

  // The placeholder is the size the image will show at (its pixels, within the column and the
  // image's height limit), so the first image takes its place without a jump.
  watch(model, ["width", "height"], () => {
    const width = positiveNumber(model.get("width"), 1);
    const height = positiveNumber(model.get("height"), 1);
    empty.style.aspectRatio = `${width} / ${height}`;
    empty.style.setProperty("--flux-want-width", `${width}px`);
    empty.style.setProperty("--flux-want-aspect", String(width / height));
  }, signal);
  watch(model, ["image", "image_type", "current", "batch_size"], () => {
    const bytes = model.get("image");
    const shown = current(model);
    const hasImage = (bytes?.byteLength || 0) > 0;
    node.hidden = !hasImage || model.get("batch_size") > 1; // a batch shows as its grid instead
    empty.hidden = hasImage || model.get("batch_size") > 1;
    if (url) URL.revokeObjectURL(url);
    url = null;
    if (!bytes || !hasImage) {
      image.removeAttribute("src");
      return;
    }
    const type = model.get("image_type") || "image/webp";
    url = URL.createObjectURL(new Blob([bytes], { type }));
    image.src = url;
    image.alt = shown.prompt || "";
    image.width = positiveNumber(shown.width, 0);
    image.height = positiveNumber(shown.height, 0);
    caption.replaceChildren(
      h("bdi", { className: "flux-caption-prompt", textContent: shown.prompt || "", dir: "auto" }),
      h("span", { className: "flux-caption-params", textContent: describeParams(shown, optionalNames(model)) }),
    );
    caption.title = shown.prompt || "";
    button.setAttribute("aria-label", `View full size: ${shown.prompt || "image"}`);
    actions.setFile({ url, type }, shown.seed);
  }, signal);

  return { node, empty, button };
}

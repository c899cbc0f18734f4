// @ts-check
// The image on show, its caption, and what can be done with it (Download, Copy image, Copy seed,
// Reuse seed). The image is a button that opens the full-size view.

import { copyPicture, copyText, flasher, h, labelledButton, listen, onAbort } from "./dom.js";
import { describeParams, downloadName, positiveNumber, reuseText } from "./format.js";
import { current, reuseImage, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */

/**
 * @param {{ model: Model, signal: AbortSignal, root: HTMLElement, onOpen: (index: number) => void, onSay: (text: string) => void }} props
 */
export function createResult({ model, signal, root, onOpen, onSay }) {
  const image = h("img", { className: "flux-image", alt: "" });
  const button = h("button", { type: "button", className: "flux-image-button" }, [image]);
  const caption = h("span", { className: "flux-caption" });
  const download = h("a", { className: "flux-link flux-download", textContent: "Download" });
  const copySeed = labelledButton("flux-link flux-copy-seed", "Copy seed");
  const reuseSeed = labelledButton("flux-link flux-reuse-seed", "Reuse seed");
  const copyImage = labelledButton("flux-link flux-copy-image", "Copy image");
  const node = h("figure", { className: "flux-result" }, [
    button,
    h("figcaption", { className: "flux-figcaption" }, [
      caption,
      h("span", { className: "flux-result-actions" }, [download, copyImage, copySeed, reuseSeed]),
    ]),
  ]);
  // Before the first image: where it will be, the size it will have.
  const empty = h("div", { className: "flux-empty" }, [h("span", { textContent: "Your image appears here" })]);
  const flash = flasher(signal);
  /** @type {string | null} */
  let url = null;
  onAbort(signal, () => {
    if (url) URL.revokeObjectURL(url);
  });

  listen(button, "click", () => {
    const index = current(model).index;
    if (index != null) onOpen(index);
  }, signal);
  listen(copySeed, "click", async () => {
    const seed = current(model).seed;
    if (seed == null) return;
    const copied = await copyText(String(seed), root);
    flash([copySeed], copySeed, copied ? "Copied" : `Seed ${seed}`);
  }, signal);
  listen(copyImage, "click", async () => flash([copyImage], copyImage, await copyPicture(image)), signal);
  listen(reuseSeed, "click", () => {
    const shown = current(model);
    if (shown.seed == null) return;
    reuseImage(model, shown);
    flash([reuseSeed], reuseSeed, "Set");
    onSay(reuseText(shown));
  }, signal);

  watch(model, ["width", "height"], () => {
    empty.style.aspectRatio = `${positiveNumber(model.get("width"), 1)} / ${positiveNumber(model.get("height"), 1)}`;
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
      h("span", { className: "flux-caption-params", textContent: describeParams(shown) }),
    );
    caption.title = shown.prompt || "";
    button.setAttribute("aria-label", `View full size: ${shown.prompt || "image"}`);
    download.href = url;
    download.download = downloadName(shown.seed, type, model.get("limits").extensions);
  }, signal);

  return { node, empty, button };
}

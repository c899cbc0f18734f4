// @ts-check
// What can be done with one image, wherever it shows (the image on show, a batch tile, the
// full-size view): Download, Copy image, Reuse seed, Edit this (into the reference tray, where the
// backend takes images), and Copy seed where asked. One component,
// so the three rows look, read and behave alike; each owns its buttons, its flash and its listeners.

import { copyPicture, copyText, flasher, h, labelledButton, listen } from "./dom.js";
import { downloadName, reuseText } from "./text.js";
import { reuseImage, tell, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {import("./types.js").Params} Params */

/**
 * @param {{
 *   model: Model,
 *   signal: AbortSignal,
 *   picture: HTMLImageElement,
 *   params: () => Params | null,
 *   say: (text: string) => void,
 *   place?: string,
 *   copyLabel?: string,
 *   copySeedRoot?: HTMLElement,
 *   className?: string,
 *   editIndex?: () => number | null | undefined,
 * }} props `params` gives the image's parameters when an action runs; `say` tells what Reuse set;
 *   `editIndex` its history index for Edit this (default: `params().index`);
 *   `place` ("2/4") goes into the accessible names; `copySeedRoot` adds Copy seed (its textarea
 *   fallback lives there) and marks the row as the image on show's (its buttons get classes of their own).
 */
export function createImageActions({
  model, signal, picture, params, say, place, copyLabel = "Copy image", copySeedRoot, className = "flux-result-actions",
  editIndex = () => params()?.index,
}) {
  const of = place ? ` ${place}` : "";
  /** @param {string} name */
  const named = (name) => (copySeedRoot ? `flux-link flux-${name}` : "flux-link");
  const download = h("a", { className: named("download"), textContent: "Download" });
  const copy = labelledButton(named("copy-image"), copyLabel);
  const reuse = labelledButton(named("reuse-seed"), "Reuse seed");
  const copySeed = copySeedRoot ? labelledButton(named("copy-seed"), "Copy seed") : null;
  const edit = labelledButton(named("edit-this"), "Edit this");
  if (place) {
    download.setAttribute("aria-label", `Download${of}`);
    copy.setAttribute("aria-label", `Copy image${of}`);
    reuse.setAttribute("aria-label", `Reuse seed of${of}`);
    edit.setAttribute("aria-label", `Edit this${of}`);
  }
  const node = h("span", { className }, copySeed ? [download, copy, copySeed, reuse, edit] : [download, copy, reuse, edit]);
  const flash = flasher(signal);

  listen(copy, "click", async () => flash([copy], copy, await copyPicture(picture)), signal);
  listen(reuse, "click", () => {
    const shown = params();
    if (!shown || shown.seed == null) return;
    const before = { count: model.get("count"), randomize_seed: model.get("randomize_seed") };
    if (!reuseImage(model, shown)) return;
    const index = editIndex();
    if (shown.images?.length && index != null) tell(model, { type: "reuse_inputs", index }); // its inputs, into the tray
    flash([reuse], reuse, "Set");
    say(reuseText(shown, before));
  }, signal);
  listen(edit, "click", () => {
    const index = editIndex();
    if (index == null) return;
    tell(model, { type: "edit", index });
    flash([edit], edit, "Added");
    say("Added to the reference images: describe the change and press Generate.");
  }, signal);
  watch(model, ["max_references"], () => {
    edit.hidden = !model.get("max_references"); // only where the backend takes images
  }, signal);
  if (copySeed && copySeedRoot) {
    listen(copySeed, "click", async () => {
      const seed = params()?.seed;
      if (seed == null) return;
      const copied = await copyText(String(seed), copySeedRoot);
      flash([copySeed], copySeed, copied ? "Copied" : `Seed ${seed}`);
    }, signal);
  }

  return {
    node,
    copy,
    /**
     * The file Download saves, or none: Download hides until there is one.
     * @param {{ url: string, type: string } | null} file
     * @param {number | undefined} seed
     */
    setFile(file, seed) {
      download.hidden = !file;
      if (!file) return;
      download.href = file.url;
      download.download = downloadName(seed, file.type, model.get("limits").extensions);
    },
  };
}

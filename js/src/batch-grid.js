// @ts-check
// The batch: one tile per image asked for, filled as each arrives, each showing its full image
// (asked of the kernel; the thumbnail until it comes, or for good without a kernel). A tile opens
// the full-size view and has its own Download, Copy and Reuse seed. Tiles are kept while they
// show the same thing, so an update never takes focus away from the tile a person is on.

import { h, listen } from "./dom.js";
import { gridColumns, positiveNumber } from "./sizes.js";
import { isBusy } from "./state.js";
import { pendingLabel } from "./text.js";
import { createImageActions } from "./image-actions.js";
import { watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {import("./types.js").Entry} Entry */
/** @typedef {ReturnType<typeof import("./entries.js").createEntries>} Entries */
/** @typedef {ReturnType<typeof import("./full-images.js").createFullImages>} FullImages */
/** @typedef {{ node: HTMLLIElement, key: unknown }} Tile */

/**
 * @param {{
 *   model: Model, entries: Entries, images: FullImages, signal: AbortSignal,
 *   onOpen: (index: number, returnFocus: () => HTMLElement | null) => void,
 *   onSay: (text: string) => void,
 * }} props
 */
export function createBatchGrid({ model, entries, images, signal, onOpen, onSay }) {
  const node = h("ul", { className: "flux-batch", "@role": "list", "@aria-label": "Batch" });
  /** @type {Tile[]} by place, 0-based */
  let tiles = [];

  /** @param {number} slot */
  const tileButton = (slot) => /** @type {HTMLElement | null} */ (node.children[slot - 1]?.querySelector(".flux-batch-button") || null);

  /** @param {string} place @param {string} state @param {boolean} busy */
  const pendingTile = (place, state, busy) => {
    const box = h("div", { className: `flux-batch-placeholder${busy ? " flux-pulsing" : ""}` });
    box.style.aspectRatio = `${positiveNumber(model.get("width"), 1)} / ${positiveNumber(model.get("height"), 1)}`;
    return h("li", { className: `flux-batch-item flux-batch-pending${busy ? "" : " flux-batch-missing"}` }, [
      box,
      h("span", { className: "flux-batch-caption", textContent: `${place} · ${state}` }),
    ]);
  };

  /** @param {number} slot @param {string} place @param {number} index @param {Entry} entry */
  const imageTile = (slot, place, index, entry) => {
    const picture = h("img", { className: "flux-batch-thumb", src: entry.thumbnail || "", alt: "", width: entry.width, height: entry.height });
    picture.style.aspectRatio = `${positiveNumber(entry.width, 1)} / ${positiveNumber(entry.height, 1)}`;
    const open = h("button", {
      type: "button", className: "flux-batch-button", "@aria-label": `Open ${place} full size: ${entry.prompt} (seed ${entry.seed})`,
    }, [picture]);
    const actions = createImageActions({
      model, signal, picture, params: () => entry, say: onSay, place, copyLabel: "Copy", className: "flux-batch-actions",
      editIndex: () => index,
    });
    actions.setFile(null, entry.seed); // until the full image is here
    const item = h("li", { className: "flux-batch-item" }, [
      open,
      h("div", { className: "flux-batch-bar" }, [
        h("span", { className: "flux-batch-caption", textContent: `${place} · seed ${entry.seed}` }),
        actions.node,
      ]),
    ]);
    item.dataset.index = String(index);
    listen(open, "click", () => onOpen(index, () => tileButton(slot)), signal);
    const full = images.peek(index);
    /** @param {{ url: string, type: string }} image */
    const useFull = (image) => {
      picture.src = image.url;
      actions.setFile(image, entry.seed);
    };
    if (full) useFull(full);
    else images.get(index).then((image) => image && item.isConnected && useFull(image));
    return item;
  };

  const draw = () => {
    const size = model.get("batch_size");
    node.hidden = size <= 1;
    if (size <= 1) {
      tiles = [];
      node.replaceChildren();
      return;
    }
    node.style.setProperty("--flux-columns", String(gridColumns(size)));
    const busy = isBusy(model.get("status"));
    const bySlot = new Map((model.get("batch") || []).map((tile) => [tile.slot, tile.index]));
    const resolved = entries.list();
    /** @type {Tile[]} */
    const next = [];
    for (let slot = 1; slot <= size; slot++) {
      const index = bySlot.get(slot);
      const entry = index == null ? null : resolved[index];
      const place = `${slot}/${size}`;
      const label = pendingLabel(index != null, busy);
      // What the tile shows: the same entry at the same index, or the same pending state.
      const key = index != null && entry ? entry : `${size}:${label}:${busy}`;
      const old = tiles[slot - 1];
      const sameIndex = old && old.node.dataset.index === (index == null ? undefined : String(index));
      if (old && old.key === key && sameIndex) next.push(old);
      else next.push({ key, node: index != null && entry ? imageTile(slot, place, index, entry) : pendingTile(place, label, busy) });
    }
    next.forEach((tile, at) => {
      const there = node.children[at];
      if (there !== tile.node) {
        if (there) there.replaceWith(tile.node);
        else node.append(tile.node);
      }
    });
    while (node.children.length > next.length) node.lastElementChild?.remove();
    tiles = next;
  };

  watch(model, ["batch", "batch_size", "batch_done", "status", "width", "height"], draw, signal);
  entries.subscribe(draw);

  return { node };
}

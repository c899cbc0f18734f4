// @ts-check
// The batch: one tile per image asked for, filled as each arrives; a tile opens the full-size view.

import { h, listen } from "./dom.js";
import { gridColumns, isBusy, pendingLabel, positiveNumber } from "./format.js";
import { watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {ReturnType<typeof import("./entries.js").createEntries>} Entries */

/**
 * @param {{ model: Model, entries: Entries, signal: AbortSignal, onOpen: (index: number) => void }} props
 */
export function createBatchGrid({ model, entries, signal, onOpen }) {
  const node = h("ul", { className: "flux-batch", "@role": "list", "@aria-label": "Batch" });

  const placeholder = () => {
    const box = h("div", { className: "flux-batch-placeholder" });
    box.style.aspectRatio = `${positiveNumber(model.get("width"), 1)} / ${positiveNumber(model.get("height"), 1)}`;
    return box;
  };

  /** @param {string} place @param {string} state */
  const pendingTile = (place, state) =>
    h("li", { className: "flux-batch-item flux-batch-pending" }, [
      placeholder(),
      h("span", { className: "flux-batch-caption", textContent: `${place} · ${state}` }),
    ]);

  /** @param {string} place @param {number} index @param {import("./types.js").Entry} entry */
  const imageTile = (place, index, entry) => {
    const label = `Open ${place} full size: ${entry.prompt} (seed ${entry.seed})`;
    const button = h("button", { type: "button", className: "flux-batch-button", "@aria-label": label }, [
      h("img", { className: "flux-batch-thumb", src: entry.thumbnail || "", alt: "", width: entry.width, height: entry.height }),
    ]);
    const item = h("li", { className: "flux-batch-item" }, [
      button,
      h("span", { className: "flux-batch-caption", textContent: `${place} · seed ${entry.seed}` }),
    ]);
    item.dataset.index = String(index);
    return item;
  };

  const draw = () => {
    const size = model.get("batch_size");
    node.hidden = size <= 1;
    if (size <= 1) {
      node.replaceChildren();
      return;
    }
    node.style.setProperty("--flux-columns", String(gridColumns(size)));
    const busy = isBusy(model.get("status"));
    const bySlot = new Map((model.get("batch") || []).map((tile) => [tile.slot, tile.index]));
    const resolved = entries.list();
    const tiles = [];
    for (let slot = 1; slot <= size; slot++) {
      const index = bySlot.get(slot);
      const entry = index == null ? null : resolved[index];
      const place = `${slot}/${size}`;
      tiles.push(index != null && entry ? imageTile(place, index, entry) : pendingTile(place, pendingLabel(index != null, busy)));
    }
    // Drawing anew must not drop focus: it stays on the tile in the same place.
    const focused = document.activeElement;
    const focusedSlot = focused && node.contains(focused) ? [...node.children].indexOf(/** @type {Element} */ (focused.closest("li"))) : -1;
    node.replaceChildren(...tiles);
    if (focusedSlot >= 0) node.children[focusedSlot]?.querySelector("button")?.focus({ preventScroll: true });
  };

  listen(node, "click", (event) => {
    const tile = /** @type {HTMLElement | null} */ (event.target.closest("[data-index]"));
    if (tile) onOpen(Number(tile.dataset.index));
  }, signal);
  watch(model, ["batch", "batch_size", "batch_done", "status", "image", "current"], draw, signal);
  entries.subscribe(draw);

  return { node };
}

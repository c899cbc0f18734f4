// @ts-check
// The full images of history entries, asked of the kernel when a view needs one (a batch tile, the
// full-size view) and kept as object URLs while their entry is in the history, the most recent
// few at most. The entry on show needs no question: its image is the `image` trait, which a saved
// notebook keeps. Without a kernel any other entry has none (`null`), and its thumbnail stands in.

import { onAbort } from "./dom.js";
import { current } from "./observe.js";

/** @typedef {import("./types.js").Entry} Entry */
/** @typedef {import("./types.js").Model} Model */
/** @typedef {ReturnType<typeof import("./entries.js").createEntries>} Entries */
/** @typedef {ReturnType<typeof import("./requests.js").createRequests>} Requests */
/** @typedef {{ url: string, type: string }} FullImage */

/** How many full images a view keeps at once (a batch's, and a few more the view stepped through). */
export const KEPT_IMAGES = 24;

/**
 * Entry `index`'s full image, asked of the kernel: `null` without a kernel, or if the history changed
 * since (the answer must be this entry's image).
 * @param {Requests} requests @param {number} index @param {Entry} entry
 * @returns {Promise<Blob | null>}
 */
export async function askImage(requests, index, entry) {
  const answer = await requests.ask({ type: "image", index });
  const content = answer?.content;
  const bytes = answer?.buffers[0];
  if (!content || content.missing || !bytes || content.seed !== entry.seed || content.prompt !== entry.prompt) return null;
  return new Blob([bytes], { type: String(content.mime || "image/webp") });
}

/**
 * @param {{ model: Model, entries: Entries, requests: Requests, signal: AbortSignal }} props
 */
export function createFullImages({ model, entries, requests, signal }) {
  /** Kept by entry object (resolved once per entry, so it is the entry's identity), oldest first. @type {Map<Entry, FullImage>} */
  const kept = new Map();
  /** @type {Map<Entry, Promise<FullImage | null>>} */
  const asked = new Map();

  /** @param {Entry} entry */
  const drop = (entry) => {
    const image = kept.get(entry);
    if (image) URL.revokeObjectURL(image.url);
    kept.delete(entry);
  };
  /** @param {Entry} entry @param {FullImage} image */
  const keep = (entry, image) => {
    kept.set(entry, image);
    while (kept.size > KEPT_IMAGES) drop(/** @type {Entry} */ (kept.keys().next().value));
    return image;
  };
  /**
   * The image on show, if it is entry `index`'s (kept like an answer from the kernel).
   * @param {number} index @param {Entry} entry
   */
  const onShow = (index, entry) => {
    const shown = current(model);
    const bytes = model.get("image");
    if (shown.index !== index || shown.seed !== entry.seed || shown.prompt !== entry.prompt || !bytes?.byteLength) return null;
    const type = model.get("image_type") || "image/webp";
    return keep(entry, { url: URL.createObjectURL(new Blob([bytes], { type })), type });
  };
  entries.subscribe(() => {
    const present = new Set(entries.list());
    for (const entry of [...kept.keys()]) if (!present.has(entry)) drop(entry);
  });
  onAbort(signal, () => {
    for (const entry of [...kept.keys()]) drop(entry);
  });

  return {
    /**
     * The full image of entry `index` if this view holds it already.
     * @param {number} index
     */
    peek(index) {
      const entry = entries.list()[index];
      return (entry && (kept.get(entry) || onShow(index, entry))) || null;
    },
    /**
     * The full image of entry `index`, asked of the kernel if need be; `null` without a kernel.
     * @param {number} index
     * @returns {Promise<FullImage | null>}
     */
    get(index) {
      const entry = entries.list()[index];
      if (!entry) return Promise.resolve(null);
      const have = kept.get(entry) || onShow(index, entry);
      if (have) return Promise.resolve(have);
      let pending = asked.get(entry);
      if (!pending) {
        pending = askImage(requests, index, entry).then((blob) => {
          asked.delete(entry);
          if (!blob || signal.aborted || !entries.list().includes(entry)) return null;
          return keep(entry, { url: URL.createObjectURL(blob), type: blob.type });
        });
        asked.set(entry, pending);
      }
      return pending;
    },
  };
}

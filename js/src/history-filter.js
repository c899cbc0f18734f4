// @ts-check
// Finding a past image: a search box over the history's prompts, a "Starred" toggle and a size
// filter, above the strip. Pure state of this view (a filter is not saved); the stars themselves
// are the widget's `starred` trait (the entries' references), so they are saved with the notebook.

import { h, listen } from "./dom.js";

/** @typedef {import("./types.js").Entry} Entry */

/**
 * Whether `entry` passes a filter: its prompt holds every word of `query` (any case), it is starred
 * when `starredOnly`, and its size is `size` ("" for any).
 * @param {Entry} entry
 * @param {{ query: string, starredOnly: boolean, size: string, starred: boolean }} filter
 */
export function passes(entry, { query, starredOnly, size, starred }) {
  const prompt = String(entry.prompt || "").toLowerCase();
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return words.every((word) => prompt.includes(word)) && (!starredOnly || starred) && (!size || `${entry.width}×${entry.height}` === size);
}

/**
 * @param {{ signal: AbortSignal, onChange: () => void }} props `onChange` redraws the strip.
 */
export function createHistoryFilter({ signal, onChange }) {
  const search = h("input", { type: "search", className: "flux-input flux-search", placeholder: "Search prompts", "@aria-label": "Search history" });
  const starredOnly = h("button", { type: "button", className: "flux-link flux-starred-only", textContent: "★ Starred", "@aria-pressed": "false" });
  const size = h("select", { className: "flux-input flux-size-filter", "@aria-label": "Size" }, [h("option", { value: "", textContent: "Any size" })]);
  const node = h("div", { className: "flux-history-filter", "@role": "search" }, [search, starredOnly, size]);
  listen(search, "input", onChange, signal);
  listen(size, "change", onChange, signal);
  listen(starredOnly, "click", () => {
    starredOnly.setAttribute("aria-pressed", String(starredOnly.getAttribute("aria-pressed") !== "true"));
    onChange();
  }, signal);

  return {
    node,
    /** The filter as it stands. */
    current: () => ({ query: search.value, starredOnly: starredOnly.getAttribute("aria-pressed") === "true", size: size.value }),
    /** Whether any filter is on. */
    active: () => Boolean(search.value.trim() || size.value || starredOnly.getAttribute("aria-pressed") === "true"),
    /**
     * The sizes the history holds, for the size filter (the chosen one kept).
     * @param {string[]} sizes
     */
    setSizes(sizes) {
      const chosen = size.value;
      size.replaceChildren(h("option", { value: "", textContent: "Any size" }), ...sizes.map((text) => h("option", { value: text, textContent: text })));
      size.value = sizes.includes(chosen) ? chosen : "";
    },
  };
}

// @ts-check
// Finding a past image: a search box over the history's prompts, a "Starred" toggle, and size and
// model filters (the model's shown once the history holds two), above the strip. Pure state of this view (a filter is not saved); the stars themselves
// are the widget's `starred` trait (the entries' references), so they are saved with the notebook.

import { h, listen } from "./dom.js";
import { createFolderSearch } from "./folder-search.js";

/** @typedef {import("./types.js").Entry} Entry */

/** @param {Entry} entry How the size filter names an entry's size. */
export const sizeOf = (entry) => `${entry.width}×${entry.height}`;

/**
 * Whether `entry` passes a filter: its prompt holds every word of `query` (any case), it is starred
 * when `starredOnly`, its size is `size` and its model `model` ("" for any).
 * @param {Entry} entry
 * @param {{ query: string, starredOnly: boolean, size: string, model: string, starred: boolean }} filter
 */
export function passes(entry, { query, starredOnly, size, model, starred }) {
  const prompt = String(entry.prompt || "").toLowerCase();
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return words.every((word) => prompt.includes(word)) && (!starredOnly || starred) && (!size || sizeOf(entry) === size)
    && (!model || (entry.model || "") === model);
}

/**
 * A list of choices with "any" first, keeping the chosen one while it is still offered.
 * @param {string} label @param {string} any
 */
function choices(label, any) {
  const select = h("select", { className: "flux-input flux-choice-filter", "@aria-label": label }, [h("option", { value: "", textContent: any })]);
  return {
    select,
    /** @param {string[]} values */
    offer(values) {
      const chosen = select.value;
      select.replaceChildren(h("option", { value: "", textContent: any }), ...values.map((text) => h("option", { value: text, textContent: text })));
      select.value = values.includes(chosen) ? chosen : "";
    },
  };
}

/** @typedef {import("./types.js").Model} Model */
/** @typedef {ReturnType<typeof import("./requests.js").createRequests>} Requests */

/**
 * @param {{ model: Model, requests: Requests, signal: AbortSignal, onChange: () => void }} props `onChange` redraws the strip.
 */
export function createHistoryFilter({ model: widgetModel, requests, signal, onChange }) {
  const search = h("input", { type: "search", className: "flux-input flux-search", placeholder: "Search prompts", "@aria-label": "Search history" });
  const starredOnly = h("button", { type: "button", className: "flux-link flux-starred-only", textContent: "★ Starred", "@aria-pressed": "false" });
  const size = choices("Size", "Any size");
  const model = choices("Model", "Any model");
  const folder = createFolderSearch({ model: widgetModel, requests, signal });
  const node = h("div", { className: "flux-history-filter", "@role": "search" }, [
    h("div", { className: "flux-history-filter-row" }, [search, starredOnly, size.select, model.select]), folder.node,
  ]);
  listen(search, "input", onChange, signal);
  listen(size.select, "change", onChange, signal);
  listen(model.select, "change", onChange, signal);
  listen(starredOnly, "click", () => {
    starredOnly.setAttribute("aria-pressed", String(starredOnly.getAttribute("aria-pressed") !== "true"));
    onChange();
  }, signal);

  const api = {
    node,
    /** The filter as it stands. */
    current: () => ({
      query: search.value, starredOnly: starredOnly.getAttribute("aria-pressed") === "true", size: size.select.value, model: model.select.value,
    }),
    /** Whether any filter is on. */
    active: () => Boolean(search.value.trim() || size.select.value || model.select.value || starredOnly.getAttribute("aria-pressed") === "true"),
    /**
     * What the history holds, for the size and model filters (the chosen ones kept).
     * @param {Entry[]} held
     */
    offer(held) {
      size.offer([...new Set(held.map(sizeOf))]);
      const models = [...new Set(held.map((entry) => entry.model || ""))].filter(Boolean);
      model.offer(models);
      model.select.hidden = models.length < 2 && !model.select.value;
      folder.update(api.current(), held.length);
    },
  };
  return api;
}

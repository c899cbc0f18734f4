// @ts-check
// Sizes and layout: aspect presets, snapping, grid columns, how tall a box grows. Pure: no DOM,
// no model; tested with `node --test` (js/test/).

/** @typedef {import("./types.js").Limits} Limits */

/** Aspect presets: label, width part, height part. @type {[string, number, number][]} */
export const PRESETS = [
  ["1:1", 1, 1],
  ["4:3", 4, 3],
  ["3:4", 3, 4],
  ["16:9", 16, 9],
  ["9:16", 9, 16],
];

/**
 * `value` if it is a finite number above zero, else `fallback`: what saved widget state (a file
 * anyone can edit) may put into a style is checked first.
 * @param {unknown} value
 * @param {number} fallback
 */
export function positiveNumber(value, fallback) {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * Snap a size the way the Space's sliders do (Python snaps too; this keeps presets tidy).
 * @param {number} size
 * @param {Pick<Limits, "min_size" | "max_size" | "size_step">} limits
 */
export function snap(size, limits) {
  const snapped = Math.round(size / limits.size_step) * limits.size_step;
  return Math.min(limits.max_size, Math.max(limits.min_size, snapped));
}

/**
 * The size a preset gives, keeping the longer side.
 * @param {number} width
 * @param {number} height
 * @param {[string, number, number]} preset
 * @param {Pick<Limits, "min_size" | "max_size" | "size_step">} limits
 * @returns {{ width: number, height: number }}
 */
export function presetSize(width, height, [, w, h], limits) {
  const side = Math.max(width, height);
  return w >= h
    ? { width: snap(side, limits), height: snap((side * h) / w, limits) }
    : { width: snap((side * w) / h, limits), height: snap(side, limits) };
}

/**
 * Whether a size has a preset's aspect.
 * @param {number} width
 * @param {number} height
 * @param {[string, number, number]} preset
 */
export function hasAspect(width, height, [, w, h]) {
  return Math.abs(width / height - w / h) < 0.02;
}

/**
 * Columns of a batch grid in balanced rows: 2 → 2, 3 → 3, 4 → 2×2, 6 → 3×2, 8 → 4×2.
 * @param {number} size
 */
export function gridColumns(size) {
  return size <= 3 ? size : Math.min(4, Math.ceil(size / 2));
}

/**
 * The height a growing text box takes for its content: at least `min`, at most `max` (then it scrolls).
 * @param {number} contentHeight The box's scrollHeight with its height unset.
 * @param {number} min
 * @param {number} max
 */
export function grownHeight(contentHeight, min, max) {
  return Math.max(min, Math.min(max, Math.ceil(contentHeight)));
}

/**
 * What the settings say when a typed size is not one the backend takes: the size used instead, and
 * the backend's step and range (from `limits`); "" when it is one.
 * @param {number} typed
 * @param {Limits} limits
 */
export function snapNote(typed, limits) {
  const used = snap(typed, limits);
  if (!Number.isFinite(typed) || used === typed) return "";
  return `${typed} is not a size the backend takes: ${used} is used (multiples of ${limits.size_step}, ${limits.min_size}–${limits.max_size}).`;
}

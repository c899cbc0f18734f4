// @ts-check
// Pure helpers: no DOM, no model. Tested with `node --test` (js/test/).

/** @typedef {import("./types.js").Params} Params */
/** @typedef {import("./types.js").Limits} Limits */
/** @typedef {import("./types.js").Status} Status */

/** Aspect presets: label, width part, height part. @type {[string, number, number][]} */
export const PRESETS = [
  ["1:1", 1, 1],
  ["4:3", 4, 3],
  ["3:4", 3, 4],
  ["16:9", 16, 9],
  ["9:16", 9, 16],
];

/** Shown while the prompt is empty, as the Space's own page does. */
export const EXAMPLES = [
  "a tiny astronaut hatching from an egg on the moon",
  "a cat holding a sign that says hello world",
  "an anime illustration of a wiener schnitzel",
  "a watercolor lighthouse at dusk, soft light",
];

/**
 * Whether a job is under way: the one place this is decided.
 * @param {Status | string} status
 */
export function isBusy(status) {
  return status === "queued" || status === "running";
}

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
 * "12:31" (or "1:02:03"): a wait in whole seconds, as the Space writes it.
 * @param {number} seconds
 */
export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const mm = String(Math.floor((s % 3600) / 60)).padStart(s >= 3600 ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * The caption's parameters, a line of their own under the prompt: "seed 1 · 1024×1024 · 4 steps · 2.1 s".
 * @param {Params} params
 */
export function describeParams(params) {
  const steps = `${params.steps} step${params.steps === 1 ? "" : "s"}`;
  return (
    `seed ${params.seed} · ${params.width}×${params.height} · ${steps}` +
    (params.guidance != null ? ` · guidance ${params.guidance}` : "") +
    (params.elapsed != null ? ` · ${Number(params.elapsed).toFixed(1)} s` : "")
  );
}

/**
 * @typedef {object} JobState What the status line is made of (a subset of the traits).
 * @property {Status} status
 * @property {number | null} queue_position
 * @property {number | null} eta
 * @property {number} step
 * @property {number} total_steps
 * @property {number} batch_size
 * @property {number} batch_done
 * @property {string} [detail] What the backend does first ("Loading model"), if anything.
 */

/**
 * "Next in line · about 5 s", "Step 2/4", "Starting…", or "" when idle.
 * @param {JobState} state
 */
export function describeJob(state) {
  if (state.status === "queued" && state.detail) return state.detail;
  if (state.status === "queued") {
    const position = state.queue_position;
    const place =
      position == null ? "Waiting for the Space" : position === 0 ? "Next in line" : `${position} ahead in the queue`;
    return state.eta != null && state.eta > 0 ? `${place} · about ${Math.ceil(state.eta)} s` : place;
  }
  if (state.status === "running") {
    return state.total_steps ? `Step ${Math.min(state.step, state.total_steps)}/${state.total_steps}` : "Starting…";
  }
  return "";
}

/**
 * The status line: "2 of 4 done · Step 3/8" during a batch, else the job's own.
 * @param {JobState} state
 */
export function describeStatus(state) {
  const job = describeJob(state);
  if (state.batch_size > 1 && isBusy(state.status)) {
    return `${state.batch_done} of ${state.batch_size} done${job ? ` · ${job}` : ""}`;
  }
  return job;
}

/**
 * Columns of a batch grid in balanced rows: 2 → 2, 3 → 3, 4 → 2×2, 6 → 3×2, 8 → 4×2.
 * @param {number} size
 */
export function gridColumns(size) {
  return size <= 3 ? size : Math.min(4, Math.ceil(size / 2));
}

/**
 * The name a downloaded image gets: "flux-1234.webp".
 * @param {number | undefined} seed
 * @param {string} mimeType
 * @param {Record<string, string>} extensions
 */
export function downloadName(seed, mimeType, extensions) {
  return `flux-${seed}.${extensions[mimeType] || "img"}`;
}

/**
 * What the screen reader hears when a job ends (busy, then not), or "" for an error (the alert says it).
 * @param {{ status: Status | string, batch_size: number, batch_done: number, newImage: boolean }} state
 */
export function outcomeText({ status, batch_size, batch_done, newImage }) {
  if (status === "error") return "";
  if (batch_size > 1 && batch_done < batch_size) return `Cancelled · ${batch_done} of ${batch_size} made`;
  return newImage ? (batch_size > 1 ? `${batch_size} images ready` : "Image ready") : "Cancelled";
}

/**
 * The collapsed settings' summary: "1024×768 · 4 steps · random seed · 2 images".
 * @param {{ width: number, height: number, steps: number, seed: number, randomize_seed: boolean, count: number }} traits
 */
export function settingsSummary({ width, height, steps, seed, randomize_seed, count }) {
  const parts = [`${width}×${height}`, `${steps} step${steps === 1 ? "" : "s"}`, randomize_seed ? "random seed" : `seed ${seed}`];
  if (count > 1) parts.push(`${count} images`);
  return parts.join(" · ");
}

/**
 * The traits that make an image again as it was (the Reuse action): its prompt, size, steps and
 * guidance, its seed with randomizing off, and one image (a batch would make seed, seed+1, …).
 * @param {Params} params
 */
export function reuseValues(params) {
  /** @type {Record<string, unknown>} */
  const values = { seed: params.seed, randomize_seed: false, count: 1 };
  for (const name of /** @type {const} */ (["prompt", "width", "height", "steps"])) {
    if (params[name] != null) values[name] = params[name];
  }
  if (params.guidance != null) values.guidance = params.guidance;
  return values;
}

/**
 * What a Reuse action says it did: "Set: seed 3 · 1024×768 · 4 steps · 1 image. Generate makes it again."
 * @param {Params} params
 */
export function reuseText(params) {
  return `Set: seed ${params.seed} · ${params.width}×${params.height} · ${params.steps} step${params.steps === 1 ? "" : "s"} · 1 image. Generate makes it again.`;
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
 * What a batch place says while it has no image.
 * @param {boolean} arriving Its image is known but not yet resolved.
 * @param {boolean} busy
 */
export function pendingLabel(arriving, busy) {
  return arriving ? "arriving…" : busy ? "waiting…" : "not made";
}

/**
 * Where focus goes in a list after the item at `at` is removed: the next item, else the one
 * before, given as its index after the removal (indexes past the removed one shift down).
 * @param {number[]} indexes The items' indexes, in the order shown.
 * @param {number} at The position of the removed item in `indexes`.
 * @returns {number | null}
 */
export function indexAfterRemoval(indexes, at) {
  const removed = indexes[at];
  const kept = indexes[at + 1] ?? indexes[at - 1];
  if (kept == null) return null;
  return kept > removed ? kept - 1 : kept;
}

// @ts-check
// The frontend's pure helpers, run with `node --test` (no browser, no DOM).

import assert from "node:assert/strict";
import { test } from "node:test";

import { gridColumns, grownHeight, hasAspect, positiveNumber, PRESETS, presetSize, snap, snapNote } from "../src/sizes.js";
import { indexAfterRemoval, isBusy, reuseValues, shownOrder } from "../src/state.js";
import { clock, describeJob, describeParams, describeStatus, downloadName, outcomeText, pendingLabel, reuseText, settingsSummary } from "../src/text.js";

const LIMITS = { min_size: 256, max_size: 2048, size_step: 32 };
/** @type {import("../src/text.js").JobState} */
const IDLE = { status: "idle", queue_position: null, eta: null, step: 0, total_steps: 0, batch_size: 0, batch_done: 0 };

test("busy means queued or running, nothing else", () => {
  assert.deepEqual(["idle", "queued", "running", "error"].map(isBusy), [false, true, true, false]);
});

test("snap rounds to the step and clamps to the range", () => {
  assert.equal(snap(1000, LIMITS), 992);
  assert.equal(snap(1008, LIMITS), 1024);
  assert.equal(snap(10, LIMITS), 256);
  assert.equal(snap(1e9, LIMITS), 2048);
  assert.equal(snap(300, { min_size: 64, max_size: 512, size_step: 64 }), 320);
});

test("a preset keeps the longer side and snaps the other", () => {
  const wide = PRESETS.find(([label]) => label === "16:9");
  const tall = PRESETS.find(([label]) => label === "9:16");
  assert.ok(wide && tall);
  assert.deepEqual(presetSize(1024, 1024, wide, LIMITS), { width: 1024, height: 576 });
  assert.deepEqual(presetSize(1024, 768, tall, LIMITS), { width: 576, height: 1024 });
  assert.ok(hasAspect(1024, 576, wide));
  assert.ok(!hasAspect(1024, 1024, wide));
});

test("clock writes a wait as the Space does", () => {
  assert.equal(clock(0), "0:00");
  assert.equal(clock(5.2), "0:06");
  assert.equal(clock(751), "12:31");
  assert.equal(clock(3723), "1:02:03");
  assert.equal(clock(-4), "0:00");
});

test("caption parameters name seed, size, steps, guidance and time", () => {
  assert.equal(describeParams({ seed: 1, width: 1024, height: 768, steps: 1, elapsed: 2.06 }), "seed 1 · 1024×768 · 1 step · 2.1 s");
  /** @type {any} */
  const withGuidance = { seed: 9, width: 512, height: 512, steps: 4, guidance: 3.5, elapsed: null };
  assert.equal(describeParams(withGuidance, ["guidance"]), "seed 9 · 512×512 · 4 steps · guidance 3.5");
  assert.equal(describeParams(withGuidance), "seed 9 · 512×512 · 4 steps", "only the optional parameters named");
});

test("the job line says where the job is", () => {
  assert.equal(describeJob(IDLE), "");
  assert.equal(describeJob({ ...IDLE, status: "queued" }), "Waiting for the Space");
  assert.equal(describeJob({ ...IDLE, status: "queued", queue_position: 0, eta: 4.2 }), "Next in line · about 5 s");
  assert.equal(describeJob({ ...IDLE, status: "queued", queue_position: 3 }), "3 ahead in the queue");
  assert.equal(describeJob({ ...IDLE, status: "running" }), "Starting…");
  assert.equal(describeJob({ ...IDLE, status: "queued", detail: "Loading model" }), "Loading model");
  assert.equal(describeJob({ ...IDLE, status: "running", detail: "Loading model" }), "Starting…");
  assert.equal(describeJob({ ...IDLE, status: "running", step: 9, total_steps: 8 }), "Step 8/8");
});

test("a batch's status counts what is done", () => {
  const running = { ...IDLE, status: /** @type {const} */ ("running"), step: 3, total_steps: 8, batch_size: 4, batch_done: 2 };
  assert.equal(describeStatus(running), "2 of 4 done · Step 3/8");
  assert.equal(describeStatus({ ...running, status: "idle" }), "");
  assert.equal(describeStatus({ ...running, batch_size: 0 }), "Step 3/8");
});

test("batch grids come in balanced rows", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(gridColumns), [1, 2, 3, 2, 3, 3, 4, 4]);
});

test("downloads are named by seed and type", () => {
  const extensions = { "image/webp": "webp", "image/png": "png" };
  assert.equal(downloadName(42, "image/webp", extensions), "flux-42.webp");
  assert.equal(downloadName(7, "image/avif", extensions), "flux-7.img");
});

test("a place without its image says why", () => {
  assert.equal(pendingLabel(true, true), "arriving…");
  assert.equal(pendingLabel(false, true), "waiting…");
  assert.equal(pendingLabel(false, false), "not made");
});

test("focus after a removal goes to the next entry, else the one before, as renumbered", () => {
  // The strip shows newest first: indexes 3, 2, 1, 0.
  assert.equal(indexAfterRemoval([3, 2, 1, 0], 0), 2); // removed 3: the next, 2, keeps its index
  assert.equal(indexAfterRemoval([3, 2, 1, 0], 1), 1); // removed 2: the next, 1, keeps its index
  assert.equal(indexAfterRemoval([3, 2, 1, 0], 3), 0); // removed 0, shown last: the one before, 1, becomes 0
  assert.equal(indexAfterRemoval([0], 0), null);
});

test("only finite positive numbers from saved state reach a style", () => {
  assert.equal(positiveNumber(768, 1), 768);
  for (const bad of ["768", "1; background-image: url(x)", NaN, Infinity, -4, 0, null, undefined, {}]) {
    assert.equal(positiveNumber(bad, 1), 1, String(bad));
  }
});

test("a job's end is announced as what happened: ready, or cancelled with what was made", () => {
  const base = { status: "idle", batch_size: 0, batch_done: 0, newImage: true };
  assert.equal(outcomeText(base), "Image ready");
  assert.equal(outcomeText({ ...base, newImage: false }), "Cancelled");
  assert.equal(outcomeText({ ...base, batch_size: 4, batch_done: 4 }), "4 images ready");
  assert.equal(outcomeText({ ...base, batch_size: 4, batch_done: 2 }), "Cancelled · 2 of 4 made");
  assert.equal(outcomeText({ ...base, status: "error" }), "");
});

test("the settings' summary says size, steps, seed and images", () => {
  const traits = { width: 1024, height: 768, steps: 1, seed: 3, randomize_seed: false, count: 1 };
  assert.equal(settingsSummary(traits), "1024×768 · 1 step · seed 3");
  assert.equal(settingsSummary({ ...traits, randomize_seed: true, steps: 4, count: 2 }), "1024×768 · 4 steps · random seed · 2 images");
  assert.equal(settingsSummary({ ...traits, sized: false, steps: 28 }), "input's size · 28 steps · seed 3");
});

test("reuse brings back the image as it was: one image, its seed, randomizing off", () => {
  const params = { prompt: "a fox", seed: 7, width: 512, height: 768, steps: 3, guidance: null };
  assert.deepEqual(reuseValues(params), { seed: 7, randomize_seed: false, count: 1, prompt: "a fox", width: 512, height: 768, steps: 3 });
  /** @type {any} */
  const withGuidance = { ...params, guidance: 3.5 };
  assert.deepEqual(reuseValues(withGuidance, ["guidance"]).guidance, 3.5);
  assert.equal(reuseValues(withGuidance).guidance, undefined, "only the optional parameters named");
  assert.equal(reuseText(params), "Set: seed 7 · 512×768 · 3 steps · 1 image. Generate makes it again.");
  assert.equal(
    reuseText(params, { count: 4, randomize_seed: true }),
    "Set: seed 7 · 512×768 · 3 steps · 1 image (was 4) · Randomize seed off. Generate makes it again.",
  );
  assert.equal(
    reuseText({ ...params, images: [{ sha256: "ab", width: 9, height: 9 }] }),
    "Set: seed 7 · 512×768 · 3 steps · 1 image · its 1 input image in the tray. Generate makes it again.",
  );
});

test("a growing box stays between its least and most height", () => {
  assert.deepEqual([grownHeight(10, 48, 240), grownHeight(99.2, 48, 240), grownHeight(900, 48, 240)], [48, 100, 240]);
});

test("a typed size the backend does not take is said, one it takes is not", () => {
  const limits = /** @type {any} */ (LIMITS);
  assert.equal(snapNote(1000, limits), "1000 is not a size the backend takes: 992 is used (multiples of 32, 256–2048).");
  assert.equal(snapNote(1024, limits), "");
  assert.equal(snapNote(9000, limits), "9000 is not a size the backend takes: 2048 is used (multiples of 32, 256–2048).");
});

test("the strip and the view show the newest run first, a batch in its own order", () => {
  // An image (run 1), then a batch of four (run 2) whose images are kept in slot order.
  const entries = [{ run: 1 }, { run: 2 }, { run: 2 }, { run: 2 }, { run: 2 }, null, { run: 3 }];
  assert.deepEqual(shownOrder(entries), [6, 1, 2, 3, 4, 0]);
  // Entries of an older saved notebook have no run: newest first, each on its own.
  assert.deepEqual(shownOrder([{}, {}, {}]), [2, 1, 0]);
  // A folder's images (runs below zero, newest -1) come after this widget's own.
  assert.deepEqual(shownOrder([{ run: -2 }, { run: -1 }, { run: 1 }]), [2, 1, 0]);
});

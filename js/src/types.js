// @ts-check
// The shapes Python and the browser share: the widget's traits, the contract, history entries.

/**
 * An optional request parameter (from Python's parameter table): a number field of its own,
 * shown when the backend takes its `wire` input; empty means the backend's default.
 * @typedef {object} OptionalParameter
 * @property {string} name Its trait, and its key in a generate message and in `current`.
 * @property {string} label
 * @property {string} wire The input name a backend takes it by.
 * @property {number} min
 * @property {number} max
 * @property {number} step
 */

/**
 * What the frontend must agree with Python on, sent once as the read-only `limits` trait
 * (`flux_widget.widget._state.frontend_contract`).
 * @typedef {object} Limits
 * @property {number} min_size
 * @property {number} max_size
 * @property {number} size_step
 * @property {number} max_steps
 * @property {number} max_seed
 * @property {number} max_count
 * @property {OptionalParameter[]} optional The optional request parameters, each a field of its own.
 * @property {string[]} controls The traits a generate message carries.
 * @property {string[]} entry_fields The fields of a history entry.
 * @property {Record<string, string>} extensions File extension by MIME type.
 */

/**
 * The parameters of the image on show (`current`), or of a history entry; an optional
 * parameter's value, when it was used, under its name.
 * @typedef {object} Params
 * @property {string} [prompt]
 * @property {string} [model] What made it (a history entry's): the Space, the inference model or the local model.
 * @property {number} [seed]
 * @property {number} [width]
 * @property {number} [height]
 * @property {number} [steps]
 * @property {number | null} [elapsed]
 * @property {number | null} [index] Its place in the history (absent once removed).
 * @property {number} [slot] Its 1-based place in a batch.
 * @property {number} [of] The size of that batch.
 * @property {{ sha256: string, width: number, height: number }[] | null} [images] The reference images it was made from.
 */

/**
 * One history entry, resolved from its model (or a plain object from an older saved notebook).
 * @typedef {Params & { thumbnail?: string, inputs?: string[], run?: number }} Entry
 */

/**
 * @typedef {"idle" | "queued" | "running" | "error"} Status
 */

/**
 * One image of the reference tray, as the kernel shows it.
 * @typedef {object} Reference
 * @property {string} id
 * @property {string} name
 * @property {number} width
 * @property {number} height
 * @property {string} thumbnail A small data: URL.
 */

/**
 * A prompt pressed while a job ran, waiting its turn, with the controls it will run with.
 * @typedef {{ id: string, prompt: string, width: number, height: number, steps: number, seed: number, randomize_seed: boolean, count: number }} QueuedPrompt
 */

/**
 * The widget's synced traits (`flux_widget.widget._state.WidgetState`); an optional parameter's
 * trait (see `Limits.optional`) is read by its name.
 * @typedef {object} Traits
 * @property {string} prompt
 * @property {number} width
 * @property {number} height
 * @property {number} steps
 * @property {number} seed
 * @property {boolean} randomize_seed
 * @property {number} count
 * @property {Limits} limits
 * @property {string} source
 * @property {string[]} space_parameters
 * @property {Status} status
 * @property {number} progress
 * @property {number} step
 * @property {number} total_steps
 * @property {number | null} queue_position
 * @property {number | null} eta
 * @property {string} error
 * @property {string} detail What the backend does before the queue or the steps ("Loading model").
 * @property {number | null} retry_at
 * @property {number} batch_size
 * @property {number} batch_done
 * @property {{ slot: number, index: number }[]} batch
 * @property {DataView<ArrayBuffer> | null} image The image on show (a binary buffer).
 * @property {string} image_type
 * @property {Params} current
 * @property {Reference[]} references The reference tray, in order (the images stay in the kernel).
 * @property {number | null} max_references How many images the backend takes (0: text only); null until known.
 * @property {(string | Entry)[]} history References ("IPY_MODEL_…") to entry models.
 * @property {string} save_to The folder every image is saved to as it arrives ("": not saved).
 * @property {QueuedPrompt[]} queue Prompts waiting for the running job, in order.
 * @property {string[]} starred The history entries marked with a star, by their reference in `history`.
 */

/**
 * A view's message to the kernel (`flux_widget.widget._messages.TO_KERNEL`; a contract test holds
 * the two lists to each other). `image`, `zip`, `input` and `find` also carry the ticket `createRequests` adds.
 * @typedef {{ type: "generate", params: Record<string, unknown> }
 *   | { type: "cancel" }
 *   | { type: "dismiss" }
 *   | { type: "restore" }
 *   | { type: "select", index: number }
 *   | { type: "remove", index: number }
 *   | { type: "image", index: number }
 *   | { type: "zip" }
 *   | { type: "add_image", name: string }
 *   | { type: "remove_image", index: number }
 *   | { type: "edit", index: number }
 *   | { type: "reuse_inputs", index: number }
 *   | { type: "input", index: number }
 *   | { type: "unqueue", index: number }
 *   | { type: "move", index: number, by: number }
 *   | { type: "cancel_all" }
 *   | { type: "find", query: string, size: string, model: string }
 *   | { type: "show_found", query: string, size: string, model: string }} ToKernel
 */

/**
 * The kernel's answer to a question (`flux_widget.widget._messages.TO_VIEW`), its bytes in a buffer.
 * @typedef {{ type: "image", ticket: string, index: number, mime?: string, missing?: boolean } & Params
 *   | { type: "zip", ticket: string, name: string, count: number }
 *   | { type: "input", ticket: string, index: number, mime?: string, missing?: boolean, sha256?: string }
 *   | { type: "found", ticket: string, count: number }} ToView
 */

/** @typedef {import("@anywidget/types").AnyModel<Traits>} Model */

export {};

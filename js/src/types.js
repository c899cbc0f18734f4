// @ts-check
// The shapes Python and the browser share: the widget's traits, the contract, history entries.

/**
 * What the frontend must agree with Python on, sent once as the read-only `limits` trait
 * (`flux_widget.widget_state.frontend_contract`).
 * @typedef {object} Limits
 * @property {number} min_size
 * @property {number} max_size
 * @property {number} size_step
 * @property {number} max_steps
 * @property {number} max_seed
 * @property {number} max_count
 * @property {string[]} controls The traits a generate message carries.
 * @property {string[]} entry_fields The fields of a history entry.
 * @property {Record<string, string>} extensions File extension by MIME type.
 */

/**
 * The parameters of the image on show (`current`), or of a history entry.
 * @typedef {object} Params
 * @property {string} [prompt]
 * @property {number} [seed]
 * @property {number} [width]
 * @property {number} [height]
 * @property {number} [steps]
 * @property {number | null} [guidance]
 * @property {number | null} [elapsed]
 * @property {number | null} [index] Its place in the history (absent once removed).
 * @property {number} [slot] Its 1-based place in a batch.
 * @property {number} [of] The size of that batch.
 */

/**
 * One history entry, resolved from its model (or a plain object from an older saved notebook).
 * @typedef {Params & { thumbnail?: string }} Entry
 */

/**
 * @typedef {"idle" | "queued" | "running" | "error"} Status
 */

/**
 * The widget's synced traits (`flux_widget.widget_state.WidgetState`).
 * @typedef {object} Traits
 * @property {string} prompt
 * @property {number} width
 * @property {number} height
 * @property {number} steps
 * @property {number} seed
 * @property {boolean} randomize_seed
 * @property {number} count
 * @property {number | null} guidance
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
 * @property {(string | Entry)[]} history References ("IPY_MODEL_…") to entry models.
 */

/** @typedef {import("@anywidget/types").AnyModel<Traits>} Model */

export {};

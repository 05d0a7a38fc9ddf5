/**
 * The shape of a built Control UI file.
 *
 * @module
 */

/** One static file of the Control UI. */
export interface UiAsset {
  /** The file's `Content-Type`, such as `text/javascript; charset=utf-8`. */
  type: string;
  /** Content hash; asset URLs carry it so they can be cached forever. */
  hash: string;
  /** The file's text. */
  body: string;
}

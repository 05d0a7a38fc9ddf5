/**
 * The shape of a built Control UI file.
 *
 * @module
 */

/** One static file of the Control UI. */
export interface UiAsset {
  type: string;
  /** Content hash; asset URLs carry it so they can be cached forever. */
  hash: string;
  body: string;
}

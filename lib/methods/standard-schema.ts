/**
 * The Standard Schema interface (standardschema.dev), written out here so the method descriptors can
 * name their schemas without exposing zod's own types: every zod 4 schema already implements it, and so
 * do valibot's and arktype's.
 *
 * @module
 */

/** A schema that validates a value of type `Input` into a value of type `Output`. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The standard properties, under a key no schema library uses for anything else. */
  readonly "~standard": StandardSchemaProps<Input, Output>;
}

/** What a Standard Schema exposes: its version, its library, a validator and its types. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** Always 1 for this version of the interface. */
  readonly version: 1;
  /** The library that made the schema, such as `zod`. */
  readonly vendor: string;
  /** Checks `value`; may answer asynchronously. */
  readonly validate: (
    value: unknown,
  ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
  /** Carries the input and output types for inference only; absent at run time. */
  readonly types?: { readonly input: Input; readonly output: Output } | undefined;
}

/** The outcome of a validation: the parsed value, or the issues found. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardSchemaIssue[] };

/** One validation problem. */
export interface StandardSchemaIssue {
  /** What is wrong, in the schema library's words. */
  readonly message: string;
  /** Where in the value: property keys and array indexes, outermost first; absent for the root. */
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/** The type a schema accepts. */
export type InferInput<S extends StandardSchemaV1> = NonNullable<S["~standard"]["types"]>["input"];

/** The type a schema produces. */
export type InferOutput<S extends StandardSchemaV1> = NonNullable<S["~standard"]["types"]>["output"];

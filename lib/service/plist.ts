/**
 * Just enough of Apple's XML property-list format for a LaunchAgent: strings, booleans, integers,
 * arrays and dicts, written and read back.
 *
 * @module
 */

/** A property-list value. */
export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function unescapeXml(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll(
    "&apos;",
    "'",
  )
    .replaceAll("&amp;", "&");
}

function renderValue(value: PlistValue, indent: string): string[] {
  if (typeof value === "string") return [`${indent}<string>${escapeXml(value)}</string>`];
  if (typeof value === "boolean") return [`${indent}<${value}/>`];
  if (typeof value === "number") return [`${indent}<integer>${Math.trunc(value)}</integer>`];
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return [`${indent}<array>`, ...value.flatMap((item) => renderValue(item, inner)), `${indent}</array>`];
  }
  const entries = Object.entries(value).flatMap(([key, item]) => [
    `${inner}<key>${escapeXml(key)}</key>`,
    ...renderValue(item, inner),
  ]);
  return [`${indent}<dict>`, ...entries, `${indent}</dict>`];
}

/** Renders a complete plist document with the standard header and DOCTYPE. */
export function renderPlist(root: { [key: string]: PlistValue }): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    ...renderValue(root, ""),
    "</plist>",
    "",
  ].join("\n");
}

/** Parses a plist document; throws on anything outside the subset {@link renderPlist} writes. */
export function parsePlist(text: string): PlistValue {
  const tokens = [
    ...text.replace(/<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--[\s\S]*?-->/g, "")
      .matchAll(/<(\/?)([a-z]+)(\s[^>]*)?(\/?)>|([^<]+)/g),
  ]
    .filter((m) => m[5] === undefined || m[5].trim() !== "");
  let index = 0;
  const next = () => {
    const token = tokens[index++];
    if (!token) throw new Error("plist ended early");
    return token;
  };
  const text_ = (tag: string): string => {
    const token = next();
    if (token[5] !== undefined) {
      const close = next();
      if (close[2] !== tag || close[1] !== "/") throw new Error(`expected </${tag}>`);
      return unescapeXml(token[5]);
    }
    if (token[2] === tag && token[1] === "/") return "";
    throw new Error(`expected text in <${tag}>`);
  };
  const value = (): PlistValue => {
    const token = next();
    const [, closing, tag, , selfClosing] = token;
    if (closing || token[5] !== undefined) throw new Error(`unexpected ${token[0]}`);
    if (selfClosing) {
      if (tag === "true" || tag === "false") return tag === "true";
      if (tag === "dict") return {};
      if (tag === "array") return [];
      if (tag === "string") return "";
      throw new Error(`unexpected <${tag}/>`);
    }
    if (tag === "string") return text_("string");
    if (tag === "integer") return Number(text_("integer"));
    if (tag === "array") {
      const items: PlistValue[] = [];
      while (!(tokens[index]?.[1] === "/" && tokens[index]?.[2] === "array")) items.push(value());
      index++;
      return items;
    }
    if (tag === "dict") {
      const dict: { [key: string]: PlistValue } = {};
      while (!(tokens[index]?.[1] === "/" && tokens[index]?.[2] === "dict")) {
        const key = next();
        if (key[2] !== "key" || key[1]) throw new Error("expected <key> in <dict>");
        const name = text_("key");
        dict[name] = value();
      }
      index++;
      return dict;
    }
    throw new Error(`unsupported plist element <${tag}>`);
  };
  const open = next();
  if (open[2] !== "plist") throw new Error("missing <plist> root");
  const root = value();
  const close = next();
  if (close[2] !== "plist" || close[1] !== "/") throw new Error("expected </plist>");
  return root;
}

/**
 * Box-drawn tables as the reference CLI prints them: columns sized to their content plus one space each
 * side, `flex` columns grown to fill the width (shrunk, wrapping their cells, when the table is wider).
 *
 * @module
 */

/** One column: the row key it shows, its header, and how it may be sized. */
export interface TableColumn {
  key: string;
  header: string;
  minWidth?: number;
  /** Takes the width left over, and gives up width first. */
  flex?: boolean;
}

/** The width the reference assumes when output is not a terminal. */
export const TABLE_WIDTH = 120;

const PADDING = 1;

function columnWidths(
  columns: readonly TableColumn[],
  rows: readonly Record<string, string>[],
  width: number,
) {
  const headers = columns.map((c) => c.header.length + PADDING * 2);
  const widths = columns.map((c, i) =>
    Math.max(c.minWidth ?? 3, headers[i], ...rows.map((r) => (r[c.key] ?? "").length + PADDING * 2))
  );
  const floors = columns.map((c, i) => Math.max(c.minWidth ?? 3, headers[i]));
  const total = () => widths.reduce((a, b) => a + b, 0) + columns.length + 1;
  const order = [...columns.keys()].sort((a, b) => Number(!!columns[b].flex) - Number(!!columns[a].flex));
  for (const group of [order.filter((i) => columns[i].flex), order.filter((i) => !columns[i].flex)]) {
    while (total() > width) {
      const widest = group.filter((i) => widths[i] > floors[i]).sort((a, b) => widths[b] - widths[a])[0];
      if (widest === undefined) break;
      widths[widest]--;
    }
  }
  const flex = order.filter((i) => columns[i].flex);
  for (let extra = width - total(), k = 0; extra > 0 && flex.length; extra--, k++) {
    widths[flex[k % flex.length]]++;
  }
  return widths;
}

/** Breaks `text` into lines of at most `width` characters, at spaces where it can. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    for (let rest = word; rest.length;) {
      const room = line ? width - line.length - 1 : width;
      if (rest.length <= room) {
        line = line ? `${line} ${rest}` : rest;
        rest = "";
      } else if (line) {
        lines.push(line);
        line = "";
      } else {
        lines.push(rest.slice(0, width));
        rest = rest.slice(width);
      }
    }
  }
  return [...lines, line];
}

/** The table as lines of text, `width` characters wide at most where the cells allow it. */
export function renderTable(
  columns: readonly TableColumn[],
  rows: readonly Record<string, string>[],
  width = TABLE_WIDTH,
): string {
  const widths = columnWidths(columns, rows, width);
  const rule = (left: string, mid: string, right: string) =>
    left + widths.map((w) => "─".repeat(w)).join(mid) + right;
  const lines = [rule("┌", "┬", "┐")];
  const row = (cells: string[]) => {
    const wrapped = cells.map((cell, i) => wrap(cell, Math.max(1, widths[i] - PADDING * 2)));
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let line = 0; line < height; line++) {
      const parts = wrapped.map((w, i) => ` ${(w[line] ?? "").padEnd(widths[i] - PADDING * 2)} `);
      lines.push(`│${parts.join("│")}│`);
    }
  };
  row(columns.map((c) => c.header));
  lines.push(rule("├", "┼", "┤"));
  for (const record of rows) row(columns.map((c) => record[c.key] ?? ""));
  lines.push(rule("└", "┴", "┘"));
  return lines.join("\n");
}

/**
 * The inspector's trace as the page shows it: its expression, rule and formula cells and its
 * legend's symbols, read from the page, and the check that it is readable (no bookkeeping rows,
 * no unnamed constants, every symbol explained by the legend).
 */
import { expect } from 'vitest'
import type { Page } from 'playwright-core'

/**
 * The shown trace, read from the page: the expression, rule and formula cells, and the
 * legend's symbols. What a cell uses that the legend does not explain: the legend's symbols
 * (longest first) are removed, the rest is split at operators and brackets, and what is left
 * must be a number or a row name vᵢ / v̄ᵢ (the legend explains those); a trailing power (tanh²)
 * is the legend's x².
 */
export const shownTrace = (page: Page) =>
  page.evaluate(() => {
    const cells = (which: string, columns: number[]) =>
      Array.from(document.querySelectorAll(`#trace table[data-trace="${which}"] tbody tr`)).flatMap((row) => columns.map((c) => row.children[c]?.textContent ?? ''))
    return {
      expressions: cells('forward', [1]),
      formulas: cells('backward', [1, 2]),
      legend: Array.from(document.querySelectorAll('#trace-legend dt')).map((dt) => dt.textContent ?? '')
    }
  })

const unexplained = (trace: Awaited<ReturnType<typeof shownTrace>>): string[] => {
  const symbols = [...trace.legend].sort((a, b) => b.length - a.length)
  return [...trace.expressions, ...trace.formulas].flatMap((text) => {
    let rest = text
    for (const symbol of symbols) rest = rest.split(symbol).join(' ')
    return rest
      .split(/[\s,()+−\-×·/[\]=:→<>|]+/)
      .map((token) => token.replace(/[⁰¹²³⁴⁵⁶⁷⁸⁹]+$/, ''))
      .filter((token) => token !== '' && !/^\d+(\.\d+)?(e[+-]?\d+)?$/.test(token) && !/^v\u0304?[₋₀-₉]+$/.test(token))
      .map((token) => `${token} in «${text}»`)
  })
}

/** The trace has no bookkeeping rows and no unnamed constants, and its legend explains every symbol. */
export const expectReadableTrace = async (page: Page): Promise<void> => {
  const trace = await shownTrace(page)
  expect(trace.expressions.length).toBeGreaterThan(3)
  expect(trace.legend).toEqual(expect.arrayContaining(['vᵢ', 'v̄ᵢ', 'L']))
  expect(trace.expressions.filter((t) => /^0 \+ |\+ 0$| × 1$|^1 × /.test(t))).toEqual([])
  expect([...trace.expressions, ...trace.formulas].filter((t) => /c\[|C[₁-₉]/.test(t))).toEqual([])
  expect(unexplained(trace)).toEqual([])
}

/**
 * JSON parsing that reports line and column, without V8's message: V8 quotes a piece of the input,
 * and a destinations document holds passwords, so the error must not echo the text.
 */

export interface JsonSyntaxProblem {
  line: number
  column: number
  reason: string
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  const end = Math.min(Math.max(offset, 0), text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: end - lineStart + 1 }
}

/** Parses JSON; on a syntax error returns where it is instead of throwing. */
export function parseJsonText(text: string): { value: unknown } | { problem: JsonSyntaxProblem } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  try {
    return { value: JSON.parse(body) }
  } catch (err) {
    const message = (err as Error).message
    const pos = /at position (\d+)/.exec(message)
    const lc = /\(line (\d+) column (\d+)\)/.exec(message)
    // keep V8's own wording only when it quotes no input ("Expected ',' or '}' after property value")
    const head = message.split(' in JSON')[0] ?? ''
    const reason =
      pos && !head.includes('"') && !head.startsWith('Unexpected token') ? head : 'unexpected character'
    if (lc) return { problem: { line: Number(lc[1]), column: Number(lc[2]), reason } }
    if (pos) return { problem: { ...lineColumn(body, Number(pos[1])), reason } }
    return { problem: { ...lineColumn(body, body.length), reason: 'unexpected end of input' } }
  }
}

/**
 * Answers of any size, in lines of bounded size. A collect of long tests with many streams is
 * tens of MB of iperf3 JSON on one host; one line that size would pass MAX_LINE_BYTES and be
 * dropped. So an answer whose line would be longer than PIECE_CHARS goes as its result's JSON
 * text cut in order into `meshperf.piece` notifications, then the response itself, whose result
 * only says how many pieces and characters there were. The controller joins and parses them;
 * nothing else changes for the method. An answer too large to be held at all (ANSWER_MAX_CHARS,
 * below V8's longest string) is refused as a `message_too_large` error naming its size.
 */
import { encodeLine } from './framing.js';
import { JsonRpcId, RpcCode } from './messages.js';

export const PIECE_METHOD = 'meshperf.piece';
/** Characters of result text per piece: its line stays well under MAX_LINE_BYTES even if every character needs a six-byte escape. */
export const PIECE_CHARS = 1 << 20;
/** Longest answer either side will build: V8 cannot hold a string much over 512 Mi characters. */
export const ANSWER_MAX_CHARS = 400 * (1 << 20);

export interface PieceParams {
  /** The request this piece answers. */
  id: JsonRpcId;
  /** The next characters of the result's JSON text. */
  data: string;
}

/** What a pieced response carries as its result, in place of the result itself. */
export interface PiecedResult {
  $pieces: number;
  chars: number;
}

export function isPieced(result: unknown): result is PiecedResult {
  const r = result as PiecedResult | null;
  return typeof r === 'object' && r !== null && typeof r.$pieces === 'number' && typeof r.chars === 'number';
}

/** The sizes said in words, for errors. */
export function mib(chars: number): string {
  return `${(chars / (1 << 20)).toFixed(1)} MiB`;
}

/** The lines that carry one response: itself, or its pieces and then itself. */
export function answerLines(id: JsonRpcId | null, result: unknown): string[] {
  let text: string;
  try {
    text = JSON.stringify(result);
  } catch (err) {
    // V8's own limit on a string: the answer cannot even be written down.
    return [encodeLine({ jsonrpc: '2.0', id, error: { code: RpcCode.MessageTooLarge, message: `message_too_large: the answer is over ${mib(ANSWER_MAX_CHARS)} (${(err as Error).message}); ask for fewer instances at a time` } })];
  }
  if (text.length > ANSWER_MAX_CHARS || (text.length > PIECE_CHARS && id === null)) {
    return [encodeLine({ jsonrpc: '2.0', id, error: { code: RpcCode.MessageTooLarge, message: `message_too_large: the answer is ${mib(text.length)}, over the ${mib(ANSWER_MAX_CHARS)} limit; ask for fewer instances at a time` } })];
  }
  if (text.length <= PIECE_CHARS) return [`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${text}}\n`];
  const lines: string[] = [];
  for (let at = 0; at < text.length; at += PIECE_CHARS) {
    lines.push(encodeLine({ jsonrpc: '2.0', method: PIECE_METHOD, params: { id: id!, data: text.slice(at, at + PIECE_CHARS) } satisfies PieceParams }));
  }
  lines.push(encodeLine({ jsonrpc: '2.0', id, result: { $pieces: lines.length, chars: text.length } satisfies PiecedResult }));
  return lines;
}

/** The pieces received so far for one request. */
export class PieceJoiner {
  private parts: string[] = [];
  private chars = 0;

  /** Add a piece; returns an error message once the answer would be too large to hold. */
  add(data: string): string | null {
    this.chars += data.length;
    if (this.chars > ANSWER_MAX_CHARS) {
      this.parts = [];
      return `message_too_large: the answer passed ${mib(ANSWER_MAX_CHARS)}`;
    }
    this.parts.push(data);
    return null;
  }

  /** The result, once its response says how many pieces there were; throws on a mismatch. */
  join(said: PiecedResult): unknown {
    if (said.$pieces !== this.parts.length || said.chars !== this.chars) {
      throw new Error(`the answer came in ${this.parts.length} pieces of ${this.chars} characters, but its response says ${said.$pieces} of ${said.chars}`);
    }
    const text = this.parts.join('');
    this.parts = [];
    return JSON.parse(text);
  }
}

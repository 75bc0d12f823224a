// Types for the dev dependency parse-prometheus-text-format (it ships none): the prom2json shape.
declare module 'parse-prometheus-text-format' {
  export interface ParsedSample {
    readonly labels?: Readonly<Record<string, string>>
    readonly value: string
  }
  export interface ParsedFamily {
    readonly name: string
    readonly help: string
    readonly type: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED'
    readonly metrics: readonly ParsedSample[]
  }
  /** Throws InvalidLineError for a line that is not in the text format. */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[]
}

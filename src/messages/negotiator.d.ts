// negotiator ships no types, and @types/negotiator would be a dependency for the one method we call.
declare module 'negotiator' {
  class Negotiator {
    constructor (request: { headers: Record<string, string | string[] | undefined> })
    /** The best of `available` for the Accept-Language header, or undefined when none is acceptable. */
    language (available?: string[]): string | undefined
  }
  export = Negotiator
}

import { parse } from 'yaml';

/**
 * YAML parsing, in a module of its own so that callers can load it (and the
 * yaml package, a noticeable part of start-up) only when a YAML file is read.
 */
export const parseYaml = (text: string): unknown => parse(text);

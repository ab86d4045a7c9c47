/**
 * SCConv for TensorFlow.js: the public API.
 *
 * Notebooks, the CLI and users import from here.
 */

// public API
export { ValueError, NotImplementedError, DataError } from './errors';

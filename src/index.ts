/**
 * SCConv for TensorFlow.js: the public API.
 *
 * Notebooks, the CLI and users import from here.
 */

// public API
export { ValueError, NotImplementedError, DataError } from './errors';
export * from './viz/index';
export { channelCorrelation, channelStats, featureMap, fractionAbove } from './analysis/channel-stats';
export type { ChannelCorrelation, ChannelStats } from './analysis/channel-stats';

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
export { loadCifar10, detectLabel, CIFAR10_CLASSES, CIFAR10_URL, CIFAR10_MD5, DATA_LABELS } from './data/cifar10';
export type { Cifar10, CifarSplit, LoadCifar10Options, DataProgress } from './data/cifar10';
export { batches, batchCount, epochOrder, fillBatch, CIFAR10_MEAN, CIFAR10_STD } from './data/batches';
export type { Batch, BatchOptions } from './data/batches';
export { Rng } from './data/rng';
export type { RngState } from './data/rng';
export { ProgressBar } from './cli/progress';

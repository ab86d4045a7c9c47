/**
 * SCConv for TensorFlow.js: the public API.
 *
 * Notebooks, the CLI and users import from here.
 */

// public API
export { ValueError, DataError } from './errors';
export { initBackend, BACKEND_CHOICES } from './backend';
export { nativeFallbacks, resetNativeFallbacks } from './kernels/native_util';
export type { NativeFallbackCount } from './kernels/native_util';
export type { BackendChoice, BackendChoiceResult, BackendOptions } from './backend';
export * from './viz/index';
export { channelCorrelation, channelStats, featureMap, fractionAbove } from './analysis/channel-stats';
export type { ChannelCorrelation, ChannelStats } from './analysis/channel-stats';
export { pearson } from './analysis/correlation';
export { loadCifar10, detectLabel, CIFAR10_CLASSES, CIFAR10_URL, CIFAR10_MD5, DATA_LABELS } from './data/cifar10';
export type { Cifar10, CifarSplit, LoadCifar10Options, DataProgress } from './data/cifar10';
export { batches, batchCount, epochOrder, fillBatch, CIFAR10_MEAN, CIFAR10_STD } from './data/batches';
export type { Batch, BatchOptions } from './data/batches';
export { Rng } from './data/rng';
export type { RngState } from './data/rng';
export { ProgressBar } from './util/progress';
export { GroupNorm, groupNorm, normalizedGamma } from './layers/group_norm';
export type { GroupNormLayerArgs } from './layers/group_norm';
export { SRU, sru, sruGates, SRU_GATES } from './layers/sru';
export type { SRULayerArgs, SRUGate } from './layers/sru';
export { CRU, cru, cruBetas, cruChannels, CRU_FUSIONS } from './layers/cru';
export type { CRULayerArgs, CRUFusion } from './layers/cru';
export { SCConv, SCCONV_PARTS } from './layers/scconv';
export type { SCConvLayerArgs, SCConvParts } from './layers/scconv';
export { GroupedConv2D, groupedConv2d } from './layers/grouped_conv';
export type { GroupedConv2DLayerArgs } from './layers/grouped_conv';
export { GhostConv, ghostConv } from './layers/ghost_conv';
export type { GhostConvLayerArgs } from './layers/ghost_conv';
export { OctaveConv, octaveConv } from './layers/octave_conv';
export type { OctaveConvLayerArgs } from './layers/octave_conv';
export { createConv, CONV_KINDS } from './layers/create_conv';
export type { ConvKind, CreateConvArgs } from './layers/create_conv';
export { fromTorchStateDict } from './interop/torch_state_dict';
export type { FromTorchOptions } from './interop/torch_state_dict';
export type { TorchStateDict, TorchTensor, TorchLayout } from './interop/torch_tensor';
export { modelFromTorchStateDict, modelToTorchStateDict } from './interop/torch_model';
export type { TorchModelOptions, ToTorchOptions } from './interop/torch_model';
export { TORCH_NAMINGS, torchModuleNames } from './interop/torch_names';
export type { TorchNaming } from './interop/torch_names';
export { countParams, countFlops } from './analysis/complexity';
export { forwardPass, pairedSpeedRatios, timeInference } from './analysis/speed';
export type { InferenceTiming, PairedRatios } from './analysis/speed';
export { loadSweep } from './experiments/sweep';
export type { Sweep, SweepRow, Published } from './experiments/sweep';
export { collectRows, reportTable } from './experiments/report';
export type { ReportRow } from './experiments/report';
export { modelComplexity } from './experiments/complexity';
export type { CountsMacs } from './analysis/complexity';
export { createResNet, PLACEMENTS, SHORTCUTS, STRIDE_PADDINGS } from './models/resnet';
export type { ResNetArgs, Placement, Shortcut, StridePadding } from './models/resnet';
export { createModel, listModels, modelArgs, registerModel } from './models/registry';
export { ZeroPadShortcut } from './models/shortcut';
export { seedKernels } from './models/init';
export { train, buildModel } from './train/train';
export type { TrainSummary, TrainStatus, EpochMetrics, TrainHooks, StepInfo } from './train/train';
export { resolveConfig, DEFAULT_CONFIG, CONFIG_SPEC } from './train/config';
export type { TrainConfig } from './train/config';
export { learningRate, sruThreshold } from './train/schedule';
export { SgdMomentum } from './train/sgd';
export type { SgdParam, SgdState } from './train/sgd';
export { saveCheckpoint, loadCheckpoint, findCheckpoint } from './train/checkpoint';
export type { Checkpoint } from './train/checkpoint';
export { readMetrics } from './train/run_files';
export { loadTrained, listTrained, TRAINED_INDEX } from './train/trained';
export type { Trained, TrainedCard, TrainedEntry } from './train/trained';
export { betaMeans, betasPerChannel, layerInputs, setSRU, allLayers } from './train/monitor';
export { readSnapshots, takeSnapshot, importanceMaps, appendSnapshot, probeBatch, SNAPSHOTS_FILE, PROBE_IMAGES } from './train/snapshots';
export type { EpochSnapshot, SRUSnapshot, CRUSnapshot, ImportanceMap } from './train/snapshots';
export { transferWeights } from './train/transfer';

// Cross-Shared: Cross-Word with the forward and backward LSTM weights tied, in the character and
// the word BiLSTM ("learning less to transfer more").
local common = import 'common.libsonnet';

common.experiment(common.crf_tagger(aligned=true, tied=true), aligned=true)

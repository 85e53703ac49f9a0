// Original file: proto/corral/plugin/v1/control.proto


export interface CallStatsRequest {
}

export interface CallStatsRequest__Output {
}

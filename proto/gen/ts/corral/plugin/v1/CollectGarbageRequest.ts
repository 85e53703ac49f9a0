// Original file: proto/corral/plugin/v1/control.proto


export interface CollectGarbageRequest {
}

export interface CollectGarbageRequest__Output {
}

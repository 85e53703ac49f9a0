// Original file: proto/corral/plugin/v1/control.proto


export interface UnparkResponse {
}

export interface UnparkResponse__Output {
}

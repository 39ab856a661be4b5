// The audio-chat WebSocket protocol. Generated from voice/protocol.py by
// scripts/generate_protocol_js.py: do not edit by hand.

export const ClientMessageTypes = Object.freeze({
  "AUTH": "auth",
  "TEXT": "text",
  "AUDIO_BASE64": "audio_base64",
  "AUDIO_END": "audio_end",
  "PLAYBACK": "playback",
  "IMAGE": "image",
  "GAME_STATE": "game_state",
  "PING": "ping"
});

export const ServerMessageTypes = Object.freeze({
  "CONNECTION": "connection",
  "INPUT_TRANSCRIPT": "input_transcript",
  "OUTPUT_TRANSCRIPT": "output_transcript",
  "RESPONSE": "response",
  "INTERRUPTED": "interrupted",
  "TURN_COMPLETE": "turn_complete",
  "STATUS": "status",
  "ERROR": "error",
  "PONG": "pong"
});

export const StatusStates = Object.freeze({
  "RECONNECTING": "reconnecting",
  "RESUMED": "resumed",
  "FALLBACK": "fallback"
});

export const CloseCodes = Object.freeze({
  "UNSUPPORTED_DATA": 1003,
  "MESSAGE_TOO_BIG": 1009,
  "INTERNAL_ERROR": 1011,
  "TRY_AGAIN_LATER": 1013,
  "SESSION_NOT_FOUND": 4004,
  "SESSION_ENDED": 4010,
  "LIMIT_REACHED": 4029,
  "UNAUTHORIZED": 4401,
  "ORIGIN_NOT_ALLOWED": 4403
});

export const ErrorCodes = Object.freeze({
  "INVALID_JSON": "invalid_json",
  "NOT_AN_OBJECT": "not_an_object",
  "UNKNOWN_TYPE": "unknown_type",
  "INVALID_FIELD": "invalid_field",
  "TEXT_TOO_LONG": "text_too_long",
  "INVALID_AUDIO": "invalid_audio",
  "INVALID_IMAGE": "invalid_image",
  "IMAGE_TOO_LARGE": "image_too_large",
  "INVALID_GAME_STATE": "invalid_game_state",
  "AUDIO_UNSUPPORTED": "audio_unsupported",
  "HELPER_UNAVAILABLE": "helper_unavailable",
  "RATE_LIMITED": "rate_limited",
  "OVERLOADED": "overloaded",
  "INTERNAL": "internal"
});

export const AudioFormats = Object.freeze({
  "input": {
    "codec": "pcm",
    "encoding": "pcm_s16le",
    "sample_rate": 16000,
    "channels": 1,
    "frame_ms": 20
  },
  "output": {
    "codec": "pcm",
    "encoding": "pcm_s16le",
    "sample_rate": 24000,
    "channels": 1,
    "frame_ms": 20
  }
});

export const MaxAudioFrameBytes = Object.freeze(65536);

export const UplinkFrameMs = Object.freeze(20);

export const MaxImageBytes = Object.freeze(5242880);

export const MaxGameStateBytes = Object.freeze(2048);

export const AudioCodecs = Object.freeze([
  "pcm",
  "opus"
]);

export const MaxOpusPacketBytes = Object.freeze(3832);

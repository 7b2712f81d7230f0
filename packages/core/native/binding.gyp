{
  "variables": {
    "addon_api_dir": "<!(node addon-api-dir.cjs)"
  },
  "targets": [
    {
      "target_name": "pingora_fd_passing",
      "conditions": [
        [
          "addon_api_dir=='' or OS=='win'",
          { "type": "none" },
          {
            "sources": ["fd-passing.cc"],
            "include_dirs": ["<(addon_api_dir)"],
            "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
            "cflags_cc": ["-O2"],
            "xcode_settings": {
              "GCC_OPTIMIZATION_LEVEL": "2",
              "MACOSX_DEPLOYMENT_TARGET": "11.0"
            }
          }
        ]
      ]
    }
  ]
}

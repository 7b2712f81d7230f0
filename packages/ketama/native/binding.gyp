{
  "variables": {
    "addon_api_dir": "<!(node addon-api-dir.cjs)"
  },
  "targets": [
    {
      "target_name": "pingora_ketama",
      "conditions": [
        [
          "addon_api_dir==''",
          { "type": "none" },
          {
            "sources": ["ketama.cc"],
            "include_dirs": ["<(addon_api_dir)"],
            "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
            "cflags_cc": ["-O3"],
            "xcode_settings": {
              "GCC_OPTIMIZATION_LEVEL": "3",
              "MACOSX_DEPLOYMENT_TARGET": "11.0"
            }
          }
        ]
      ]
    }
  ]
}

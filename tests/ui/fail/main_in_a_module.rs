mod server {
    #[platform_gate::platform_gated(env = "KV_UNSUPPORTED_ARCH")]
    pub fn main() {}
}

fn main() {
    server::main();
}

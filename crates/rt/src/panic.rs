//! The panic path of bare-metal images: the message on the console, then exit status 255.

#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::abort(format_args!("{info}"))
}

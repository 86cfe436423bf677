//! x86-64 kernels and their runtime detection.

pub(crate) mod avx2;
pub(crate) mod avx512;

cpufeatures::new!(cpuid_avx2, "avx2", "popcnt");
cpufeatures::new!(
    cpuid_avx512,
    "avx512f",
    "avx512bw",
    "avx512vbmi",
    "avx512vpopcntdq",
    "avx2",
    "popcnt"
);

/// Whether the CPU and OS run [`avx2::blocks`].
pub(crate) fn has_avx2() -> bool {
    cpuid_avx2::get()
}

/// Whether the CPU and OS run [`avx512::blocks`].
pub(crate) fn has_avx512() -> bool {
    cpuid_avx512::get()
}

/*
 * blob.S - the recorder's ELF file, built by the Makefile from
 * tracer/recorder/, inside memtrack: the tracer maps its one loadable
 * segment into the traced program and hands the file to its unwinder.
 */
	.section .rodata.recorder, "a"
	.globl	recorder_elf
	.globl	recorder_elf_size
	.balign	16
recorder_elf:
	.incbin	RECORDER_ELF
recorder_elf_end:
	.balign	8
recorder_elf_size:
	.quad	recorder_elf_end - recorder_elf

	.section .note.GNU-stack, "", @progbits

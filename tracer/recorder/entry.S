/*
 * entry.S - the ways into the recorder.  Each hooked site jumps to a small
 * stub the tracer writes next to its module (tracer/fast.c), which comes
 * here.  Both entries build a context on the stack for the C code, and
 * carry CFI, so that the tracer's unwinder walks through them.
 */
	.text

/*
 * A function's entry (allocator, syscall wrapper).  From the stub:
 *   r10d = the site's index, r11 = the original's displaced instructions
 *   (calling r11 is calling the original), rsp -> the caller's return
 *   address, the arguments in rdi, rsi, rdx, rcx, r8, r9.
 * r10 and r11 are free at a function's entry: no argument lives there.
 * The context (struct mtr_ctx in recorder.c) is 15 words; at entry rsp is
 * 8 mod 16, so after 120 bytes the call to C is aligned.
 */
	.globl	mtr_entry
	.hidden	mtr_entry
	.type	mtr_entry, @function
mtr_entry:
	.cfi_startproc
	sub	$120, %rsp
	.cfi_adjust_cfa_offset 120
	mov	%rdi, 0(%rsp)
	mov	%rsi, 8(%rsp)
	mov	%rdx, 16(%rsp)
	mov	%rcx, 24(%rsp)
	mov	%r8, 32(%rsp)
	mov	%r9, 40(%rsp)
	mov	%rbx, 48(%rsp)
	mov	%rbp, 56(%rsp)
	mov	%r12, 64(%rsp)
	mov	%r13, 72(%rsp)
	mov	%r14, 80(%rsp)
	mov	%r15, 88(%rsp)
	lea	120(%rsp), %rax
	mov	%rax, 96(%rsp)
	mov	%r10, 104(%rsp)
	mov	%r11, 112(%rsp)
	mov	%rsp, %rdi
	call	mtr_call
	add	$120, %rsp
	.cfi_adjust_cfa_offset -120
	ret
	.cfi_endproc
	.size	mtr_entry, .-mtr_entry

/*
 * Any instruction (a --mark).  The stub, at the mark:
 *     lea -128(%rsp), %rsp        the red zone belongs to the program
 *     push %r10
 *     mov $site, %r10d
 *     call *entry                 pushes where it goes on
 *     pop %r10
 *     lea 128(%rsp), %rsp
 *     the displaced instructions, a jump back
 * Here every register and the flags are saved, in the order of struct
 * mtr_mark_ctx, and given back as they were.
 */
	.globl	mtr_mark_entry
	.hidden	mtr_mark_entry
	.type	mtr_mark_entry, @function
mtr_mark_entry:
	.cfi_startproc
	pushfq
	.cfi_adjust_cfa_offset 8
	push	%rax
	.cfi_adjust_cfa_offset 8
	push	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbx, 0
	push	%rcx
	.cfi_adjust_cfa_offset 8
	push	%rdx
	.cfi_adjust_cfa_offset 8
	push	%rsi
	.cfi_adjust_cfa_offset 8
	push	%rdi
	.cfi_adjust_cfa_offset 8
	push	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbp, 0
	push	%r8
	.cfi_adjust_cfa_offset 8
	push	%r9
	.cfi_adjust_cfa_offset 8
	push	%r11
	.cfi_adjust_cfa_offset 8
	push	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r12, 0
	push	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r13, 0
	push	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r14, 0
	push	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r15, 0
	mov	%rsp, %rdi
	mov	%r10, %rsi
	mov	%rsp, %rbx
	.cfi_def_cfa_register rbx
	and	$-16, %rsp
	call	mtr_mark
	mov	%rbx, %rsp
	.cfi_def_cfa_register rsp
	pop	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore r15
	pop	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore r14
	pop	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore r13
	pop	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore r12
	pop	%r11
	.cfi_adjust_cfa_offset -8
	pop	%r9
	.cfi_adjust_cfa_offset -8
	pop	%r8
	.cfi_adjust_cfa_offset -8
	pop	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbp
	pop	%rdi
	.cfi_adjust_cfa_offset -8
	pop	%rsi
	.cfi_adjust_cfa_offset -8
	pop	%rdx
	.cfi_adjust_cfa_offset -8
	pop	%rcx
	.cfi_adjust_cfa_offset -8
	pop	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbx
	pop	%rax
	.cfi_adjust_cfa_offset -8
	popfq
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	mtr_mark_entry, .-mtr_mark_entry

	.section .note.GNU-stack, "", @progbits

.intel_syntax noprefix
.text
# code page; data page follows at +0x1000; offsets[16] at data+0x40
.globl base
base:
cg:
    mov eax, 228
    syscall
    test rax, rax
    jnz 1f
    cmp edi, 16
    jae 1f
    mov ecx, edi
    lea rdx, [rip + cg + 0x1040]
    mov rdx, [rdx + rcx*8]
    test rdx, rdx
    jz 1f
    mov r8, [rsi]
    imul r8, r8, 1000000000
    add r8, [rsi + 8]
    add r8, rdx
    mov rax, r8
    mov r9, 1000000000
    cqo
    idiv r9
    test rdx, rdx
    jns 2f
    add rdx, r9
    dec rax
2:  mov [rsi], rax
    mov [rsi + 8], rdx
    xor eax, eax
1:  ret
.p2align 6
gtod:
    mov eax, 96
    syscall
    test rax, rax
    jnz 1f
    test rdi, rdi
    jz 1f
    mov rax, [rip + cg + 0x1040]
    test rax, rax
    jz 1f
    mov r9, 1000
    cqo
    idiv r9
    mov r8, [rdi]
    imul r8, r8, 1000000
    add r8, [rdi + 8]
    add r8, rax
    mov rax, r8
    mov r9, 1000000
    cqo
    idiv r9
    test rdx, rdx
    jns 2f
    add rdx, r9
    dec rax
2:  mov [rdi], rax
    mov [rdi + 8], rdx
    xor eax, eax
1:  ret
.p2align 6
tm:
    mov r8, rdi
    xor edi, edi
    mov eax, 201
    syscall
    mov rdi, r8
    mov rdx, [rip + cg + 0x1040]
    test rdx, rdx
    jz 3f
    imul rax, rax, 1000000000
    add rax, rdx
    mov r9, 1000000000
    cqo
    idiv r9
    test rdx, rdx
    jns 3f
    dec rax
3:  test rdi, rdi
    jz 1f
    mov [rdi], rax
1:  ret
.org 0x180
fast_cg:
    push rdi
    push rsi
    sub rsp, 8
    call cg_stub
    add rsp, 8
    pop rsi
    pop rdi
    test rax, rax
    jnz 1f
    cmp edi, 16
    jae 1f
    mov ecx, edi
    lea rdx, [rip + base + 0x1040]
    mov rdx, [rdx + rcx*8]
    test rdx, rdx
    jz 1f
    mov r8, [rsi]
    imul r8, r8, 1000000000
    add r8, [rsi + 8]
    add r8, rdx
    mov rax, r8
    mov r9, 1000000000
    cqo
    idiv r9
    test rdx, rdx
    jns 2f
    add rdx, r9
    dec rax
2:  mov [rsi], rax
    mov [rsi + 8], rdx
    xor eax, eax
1:  ret
.org 0x200
cg_stub:
    int3
.org 0x240
fast_gtod:
    push rdi
    push rsi
    sub rsp, 8
    call gtod_stub
    add rsp, 8
    pop rsi
    pop rdi
    test rax, rax
    jnz 1f
    test rdi, rdi
    jz 1f
    mov rax, [rip + base + 0x1040]
    test rax, rax
    jz 1f
    mov r9, 1000
    cqo
    idiv r9
    mov r8, [rdi]
    imul r8, r8, 1000000
    add r8, [rdi + 8]
    add r8, rax
    mov rax, r8
    mov r9, 1000000
    cqo
    idiv r9
    test rdx, rdx
    jns 2f
    add rdx, r9
    dec rax
2:  mov [rdi], rax
    mov [rdi + 8], rdx
    xor eax, eax
1:  ret
.org 0x2c0
gtod_stub:
    int3
.org 0x300

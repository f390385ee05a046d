/** An execution's name from its ARN (`arn:aws:states:<region>:<account>:execution:<machine>:<name>`). */
export function executionNameOf(arn: string): string {
  return arn.split(':').pop() ?? arn;
}
